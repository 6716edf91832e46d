package dev.instaflow.engine.text;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.BundleFiles;

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
@EntryPoint("writing vocab.json and merges.txt: training's reduced tokenizer, the demo bundle")
public final class ClipTokenizerFiles {
    public static final String VOCAB = "vocab.json";
    public static final String MERGES = "merges.txt";
    public static final String TOKENIZER_JSON = "tokenizer.json";

    private ClipTokenizerFiles() {
    }

    /**
     * The vocabulary (token → id) of {@code vocab.json}, or of a {@code tokenizer.json} with its added tokens. Every
     * id is checked: a non-negative integer, used by one token only.
     */
    public static JsonObject vocabulary(Path folder) {
        Path vocab = folder.resolve(VOCAB);
        if (BundleFiles.present(vocab)) {
            return checkedIds(vocab, readJson(vocab));
        }
        Path tokenizerJson = folder.resolve(TOKENIZER_JSON);
        if (BundleFiles.present(tokenizerJson)) {
            JsonObject root = readJson(tokenizerJson);
            JsonElement modelElement = root.get("model");
            JsonObject model = modelElement != null && modelElement.isJsonObject() ? modelElement.getAsJsonObject()
                    : null;
            if (model != null && model.has("vocab") && model.get("vocab").isJsonObject()) {
                JsonObject v = model.getAsJsonObject("vocab").deepCopy();
                JsonElement added = root.get("added_tokens");
                if (added != null && !added.isJsonNull()) {
                    if (!added.isJsonArray()) {
                        throw new InvalidModelException(tokenizerJson, "added_tokens", "expected an array");
                    }
                    int index = 0;
                    for (JsonElement t : added.getAsJsonArray()) {
                        JsonElement content = t.isJsonObject() ? t.getAsJsonObject().get("content") : null;
                        JsonElement id = t.isJsonObject() ? t.getAsJsonObject().get("id") : null;
                        if (content == null || !content.isJsonPrimitive() || id == null) {
                            throw new InvalidModelException(tokenizerJson, "added_tokens[" + index + "]",
                                    "expected an object with \"content\" (a string) and \"id\"");
                        }
                        v.add(content.getAsString(), id);
                        index++;
                    }
                }
                return checkedIds(tokenizerJson, v);
            }
            throw new InvalidModelException(tokenizerJson, "model.vocab", "expected a BPE model with a vocab object");
        }
        throw new InvalidModelException(folder, null, "no vocab.json (with merges.txt) or tokenizer.json in the"
                + " tokenizer folder");
    }

    /**
     * The vocabulary, after checking that each id is an integer in 0..2^31-1 and no two tokens share one (two tokens
     * with one id make the text encoder read the same embedding for both: different images, silently). Messages
     * give the entry's position, never its text.
     */
    private static JsonObject checkedIds(Path file, JsonObject vocab) {
        java.util.BitSet seen = new java.util.BitSet();
        int index = 0;
        for (java.util.Map.Entry<String, JsonElement> e : vocab.entrySet()) {
            JsonElement id = e.getValue();
            long value = -1;
            if (id.isJsonPrimitive() && id.getAsJsonPrimitive().isNumber()) {
                try {
                    value = id.getAsBigDecimal().longValueExact();
                } catch (ArithmeticException | NumberFormatException notAnInteger) {
                    value = -1;
                }
            }
            if (value < 0 || value > Integer.MAX_VALUE) {
                throw new InvalidModelException(file, null, "vocabulary entry " + (index + 1) + " of " + vocab.size()
                        + " has an id that is not an integer in 0.." + Integer.MAX_VALUE);
            }
            if (seen.get((int) value)) {
                throw new InvalidModelException(file, null, "vocabulary entry " + (index + 1) + " of " + vocab.size()
                        + " reuses id " + value + ", which an earlier entry has; each token needs its own id");
            }
            seen.set((int) value);
            index++;
        }
        return vocab;
    }

    /** The merges of a {@code merges.txt}, in rank order, without its {@code #version} header. */
    public static List<String> merges(Path file) {
        List<String> merges = new ArrayList<>();
        int lineNumber = 0;
        String text = BundleFiles.readText(file.toAbsolutePath().getParent(), file, null,
                BundleFiles.MAX_VOCABULARY_BYTES);
        for (String line : text.split("\n")) {
            lineNumber++;
            String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (l.isEmpty() || (lineNumber == 1 && l.startsWith("#version"))) {
                continue;
            }
            if (l.split(" ").length != 2) {
                throw new InvalidModelException(file, null, "line " + lineNumber + " is not a merge: expected two"
                        + " tokens separated by one space");
            }
            merges.add(l);
        }
        return merges;
    }

    /**
     * A JSON object file of a tokenizer folder, read through {@link BundleFiles} (a regular file inside the folder)
     * with the size limit for its kind.
     */
    static JsonObject readJson(Path file) {
        String name = String.valueOf(file.getFileName());
        long limit = name.equals(TOKENIZER_JSON) ? BundleFiles.MAX_TOKENIZER_JSON_BYTES
                : name.equals(VOCAB) ? BundleFiles.MAX_VOCABULARY_BYTES : BundleFiles.MAX_SMALL_JSON_BYTES;
        return BundleFiles.readJsonObject(file.toAbsolutePath().getParent(), file, null, limit);
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
