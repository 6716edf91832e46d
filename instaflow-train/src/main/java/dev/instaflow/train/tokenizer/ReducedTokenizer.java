package dev.instaflow.train.tokenizer;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.text.ClipTokenizer;
import dev.instaflow.engine.text.ClipTokenizerFiles;
import dev.instaflow.engine.text.TokenizerFraming;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Derives, from a full CLIP tokenizer folder ({@code vocab.json} + {@code merges.txt}), a small folder that
 * tokenizes a given word list with exactly the ids the full tokenizer gives, so a trained model can ship its
 * tokenizer in a few kilobytes instead of CLIP's 2 MB.
 *
 * <p>It keeps the vocabulary entries of every symbol the BPE passes through for each word (the letters, the
 * intermediate pieces and the final tokens, all with their original ids), the merges it applies (in their original
 * order) and the three special tokens. Why that is exact for the listed words: BPE repeatedly applies the
 * lowest-ranked merge among the adjacent pairs of a word; the merge the full tokenizer picks at each state is in
 * the subset, and every subset merge has the same relative rank, so the subset picks the same merge, state by
 * state. {@link #derive} also checks the result against the full tokenizer through the SDK's own
 * {@link ClipTokenizer}. Other words may tokenize differently (into letters, or the unknown token, which CLIP
 * maps to its end id).
 */
public final class ReducedTokenizer {
    private static final String BOS = TokenizerFraming.CLIP_BOS;
    private static final String EOS = TokenizerFraming.CLIP_EOS;
    private static final String WORD_END = "</w>";

    private ReducedTokenizer() {
    }

    /**
     * Writes the reduced tokenizer for {@code words} into {@code target} (created; existing files are replaced)
     * and checks that every word, and the sentence of all words, tokenizes as in {@code fullFolder}.
     *
     * @param words lower-case ASCII words
     * @throws IllegalArgumentException if a word is not lower-case ASCII letters, or the full folder lacks an entry
     * @throws IllegalStateException    if the check against the full tokenizer fails
     */
    public static void derive(Path fullFolder, List<String> words, Path target) {
        JsonObject vocab = ClipTokenizerFiles.vocabulary(fullFolder);
        Map<String, Integer> ranks = new HashMap<>();
        List<String> mergeLines = ClipTokenizerFiles.merges(fullFolder.resolve(ClipTokenizerFiles.MERGES));
        for (int i = 0; i < mergeLines.size(); i++) {
            ranks.putIfAbsent(mergeLines.get(i), i);
        }
        Set<String> symbols = new LinkedHashSet<>();
        Set<Integer> usedMerges = new java.util.TreeSet<>();
        for (String word : words) {
            if (!word.matches("[a-z]+")) {
                throw new IllegalArgumentException("\"" + word + "\" is not a lower-case ASCII word");
            }
            bpe(word, ranks, symbols, usedMerges);
        }
        JsonObject reducedVocab = new JsonObject();
        TreeMap<Integer, String> byId = new TreeMap<>();
        symbols.add(BOS);
        symbols.add(EOS);
        for (String s : symbols) {
            JsonElement id = vocab.get(s);
            if (id == null) {
                throw new IllegalArgumentException(fullFolder.resolve("vocab.json") + " has no entry \"" + s + "\"");
            }
            byId.put(id.getAsInt(), s);
        }
        byId.forEach((id, s) -> reducedVocab.addProperty(s, id));
        StringBuilder merges = new StringBuilder("#version: 0.2\n");
        for (int rank : usedMerges) {
            merges.append(mergeLines.get(rank)).append('\n');
        }
        try {
            Files.createDirectories(target);
            Files.writeString(target.resolve("vocab.json"),
                    new GsonBuilder().disableHtmlEscaping().create().toJson(reducedVocab) + "\n", StandardCharsets.UTF_8);
            Files.writeString(target.resolve("merges.txt"), merges.toString(), StandardCharsets.UTF_8);
            ClipTokenizerFiles.writeSpecialTokenFiles(target, BOS, EOS, TokenizerFraming.CLIP_MAX_LENGTH);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the tokenizer to " + target, e);
        }
        List<String> texts = new ArrayList<>(words);
        texts.add(String.join(" ", words));
        String mismatch = firstMismatch(fullFolder, target, texts);
        if (mismatch != null) {
            throw new IllegalStateException("the reduced tokenizer in " + target + " disagrees with " + fullFolder
                    + ": " + mismatch);
        }
    }

    /**
     * Compares the ids both folders' tokenizers (the SDK's {@link ClipTokenizer}) give each text; null when all
     * agree, else a description of the first difference.
     */
    public static String firstMismatch(Path fullFolder, Path reducedFolder, List<String> texts) {
        BundleManifest.Text framing = TokenizerFraming.read(fullFolder);
        try (ClipTokenizer full = ClipTokenizer.load(fullFolder, framing);
             ClipTokenizer reduced = ClipTokenizer.load(reducedFolder, TokenizerFraming.read(reducedFolder))) {
            for (String text : texts) {
                long[] a = full.encode(List.of(text)).ids();
                long[] b = reduced.encode(List.of(text)).ids();
                if (!Arrays.equals(a, b)) {
                    return "\"" + text + "\": full " + Arrays.toString(Arrays.copyOf(a, 12)) + "..., reduced "
                            + Arrays.toString(Arrays.copyOf(b, 12)) + "...";
                }
            }
        }
        return null;
    }

    /** CLIP's BPE on one word, recording every symbol it passes through and every merge it applies. */
    private static void bpe(String word, Map<String, Integer> ranks, Set<String> symbols, Set<Integer> usedMerges) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < word.length(); i++) {
            parts.add(i == word.length() - 1 ? word.charAt(i) + WORD_END : String.valueOf(word.charAt(i)));
        }
        symbols.addAll(parts);
        while (parts.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String bestPair = null;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = ranks.get(parts.get(i) + " " + parts.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    bestPair = parts.get(i) + " " + parts.get(i + 1);
                }
            }
            if (bestPair == null) {
                break;
            }
            usedMerges.add(bestRank);
            List<String> merged = new ArrayList<>();
            for (int i = 0; i < parts.size(); i++) {
                if (i + 1 < parts.size() && (parts.get(i) + " " + parts.get(i + 1)).equals(bestPair)) {
                    merged.add(parts.get(i) + parts.get(i + 1));
                    i++;
                } else {
                    merged.add(parts.get(i));
                }
            }
            parts = merged;
            symbols.addAll(parts);
        }
    }
}
