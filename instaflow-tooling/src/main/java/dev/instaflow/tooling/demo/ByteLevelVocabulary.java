package dev.instaflow.tooling.demo;

import com.google.gson.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The first 512 entries of CLIP's vocabulary, generated rather than copied: GPT-2's byte-to-unicode table
 * ({@code bytes_to_unicode}) in CLIP's order, then the same symbols with the {@code </w>} word-end suffix. A
 * tokenizer with these entries and no merges is a valid CLIP-style tokenizer that spells every word out byte by
 * byte, with the same ids the real vocabulary gives single characters.
 */
final class ByteLevelVocabulary {
    private ByteLevelVocabulary() {
    }

    /** The 256 byte symbols in CLIP's vocabulary order. */
    static List<String> byteSymbols() {
        List<Integer> bytes = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bytes.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bytes.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bytes.add(b);
        }
        List<Integer> chars = new ArrayList<>(bytes);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!bytes.contains(b)) {
                bytes.add(b);
                chars.add(256 + n++);
            }
        }
        List<String> symbols = new ArrayList<>();
        for (int c : chars) {
            symbols.add(new String(Character.toChars(c)));
        }
        return symbols;
    }

    /** vocab.json content: 512 byte-level entries plus the two markers at 512 and 513. */
    static JsonObject vocabulary() {
        JsonObject vocab = new JsonObject();
        List<String> symbols = byteSymbols();
        for (int i = 0; i < symbols.size(); i++) {
            vocab.addProperty(symbols.get(i), i);
        }
        for (int i = 0; i < symbols.size(); i++) {
            vocab.addProperty(symbols.get(i) + "</w>", 256 + i);
        }
        vocab.addProperty(DemoBundle.BOS, 512);
        vocab.addProperty(DemoBundle.EOS, 513);
        return vocab;
    }
}
