package dev.instaflow.engine.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.instaflow.InvalidBundleException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The files of a CLIP tokenizer folder as diffusers snapshots lay it out ({@code vocab.json}, {@code merges.txt},
 * {@code special_tokens_map.json}, {@code tokenizer_config.json}, or a {@code tokenizer.json}): read by the SDK,
 * written by the tools that make tokenizer folders (the demo bundle, the training module's reduced tokenizer).
 */
public final class ClipTokenizerFiles {
    public static final String VOCAB = "vocab.json";
    public static final String MERGES = "merges.txt";
    public static final String TOKENIZER_JSON = "tokenizer.json";

    private ClipTokenizerFiles() {
    }

    /** The vocabulary (token → id) of {@code vocab.json}, or of a {@code tokenizer.json} with its added tokens. */
    public static JsonObject vocabulary(Path folder) {
        Path vocab = folder.resolve(VOCAB);
        if (Files.isRegularFile(vocab)) {
            return ClipTokenizer.parseObject(vocab, ClipTokenizer.readText(vocab));
        }
        Path tokenizerJson = folder.resolve(TOKENIZER_JSON);
        if (Files.isRegularFile(tokenizerJson)) {
            JsonObject root = ClipTokenizer.parseObject(tokenizerJson, ClipTokenizer.readText(tokenizerJson));
            JsonElement modelElement = root.get("model");
            JsonObject model = modelElement != null && modelElement.isJsonObject() ? modelElement.getAsJsonObject()
                    : null;
            if (model != null && model.has("vocab") && model.get("vocab").isJsonObject()) {
                JsonObject v = model.getAsJsonObject("vocab").deepCopy();
                if (root.has("added_tokens")) {
                    root.getAsJsonArray("added_tokens").forEach(t -> v.add(
                            t.getAsJsonObject().get("content").getAsString(), t.getAsJsonObject().get("id")));
                }
                return v;
            }
            throw new InvalidBundleException(tokenizerJson, "model.vocab", "expected a BPE model with a vocab object");
        }
        throw new InvalidBundleException(folder, null, "no vocab.json (with merges.txt) or tokenizer.json in the"
                + " tokenizer folder");
    }

    /** The merges of a {@code merges.txt}, in rank order, without its {@code #version} header. */
    public static List<String> merges(Path file) {
        List<String> merges = new ArrayList<>();
        int lineNumber = 0;
        for (String line : ClipTokenizer.readText(file).split("\n")) {
            lineNumber++;
            String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (l.isEmpty() || (lineNumber == 1 && l.startsWith("#version"))) {
                continue;
            }
            if (l.split(" ").length != 2) {
                throw new InvalidBundleException(file, null, "line " + lineNumber + " is not a merge \"a b\": \"" + l
                        + "\"");
            }
            merges.add(l);
        }
        return merges;
    }

    /**
     * Writes {@code special_tokens_map.json} and {@code tokenizer_config.json} of a CLIP tokenizer whose markers are
     * {@code bos} and {@code eos}, padding with {@code eos} (the SD 1.5 convention), {@code maxLength} ids per text.
     */
    public static void writeSpecialTokenFiles(Path folder, String bos, String eos, int maxLength) throws IOException {
        Files.writeString(folder.resolve(SpecialTokens.MAP_FILE), "{\"bos_token\": \"" + bos + "\", \"eos_token\": \""
                + eos + "\", \"unk_token\": \"" + eos + "\", \"pad_token\": \"" + eos + "\"}\n", StandardCharsets.UTF_8);
        Files.writeString(folder.resolve(SpecialTokens.CONFIG_FILE), "{\"model_max_length\": " + maxLength
                + ", \"do_lower_case\": true}\n", StandardCharsets.UTF_8);
    }
}
