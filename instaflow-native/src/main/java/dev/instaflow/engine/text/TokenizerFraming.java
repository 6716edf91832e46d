package dev.instaflow.engine.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.InvalidBundleException;
import dev.instaflow.engine.bundle.BundleManifest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The framing a tokenizer folder declares for itself: the begin, end and pad ids (from
 * {@code special_tokens_map.json} or {@code tokenizer_config.json}, looked up in the vocabulary; CLIP's markers and
 * "pad with the end marker" when absent) and the text length ({@code model_max_length}, 77 when absent). Used when
 * making a bundle and by {@code instaflow tokenize --tokenizer DIR}; a loaded bundle takes these from its manifest.
 */
public final class TokenizerFraming {
    private TokenizerFraming() {
    }

    /** The framing, with {@code hiddenSize} 0 (a tokenizer folder does not know the text encoder's width). */
    public static BundleManifest.Text read(Path folder) {
        JsonObject vocab = vocabulary(folder);
        JsonObject config = optionalJson(folder.resolve("tokenizer_config.json"));
        JsonObject special = optionalJson(folder.resolve("special_tokens_map.json"));
        String bos = token(special, config, "bos_token", "<|startoftext|>");
        String eos = token(special, config, "eos_token", "<|endoftext|>");
        String pad = token(special, config, "pad_token", eos);
        int maxLength = 77;
        if (config != null && config.has("model_max_length") && config.get("model_max_length").isJsonPrimitive()) {
            double v = config.get("model_max_length").getAsDouble();
            if (v >= 3 && v <= 4096) {
                maxLength = (int) v;
            }
        }
        return new BundleManifest.Text(maxLength, 0, id(folder, vocab, bos), id(folder, vocab, eos),
                id(folder, vocab, pad));
    }

    private static long id(Path folder, JsonObject vocab, String token) {
        JsonElement id = vocab.get(token);
        if (id == null) {
            throw new InvalidBundleException(folder, null, "the vocabulary has no entry for the special token \""
                    + token + "\"");
        }
        return id.getAsLong();
    }

    private static JsonObject vocabulary(Path folder) {
        Path vocab = folder.resolve("vocab.json");
        if (Files.isRegularFile(vocab)) {
            return optionalJson(vocab);
        }
        Path tokenizerJson = folder.resolve("tokenizer.json");
        if (Files.isRegularFile(tokenizerJson)) {
            JsonObject root = optionalJson(tokenizerJson);
            JsonObject model = root.getAsJsonObject("model");
            if (model != null && model.has("vocab")) {
                JsonObject v = model.getAsJsonObject("vocab").deepCopy();
                if (root.has("added_tokens")) {
                    root.getAsJsonArray("added_tokens").forEach(t -> v.add(
                            t.getAsJsonObject().get("content").getAsString(), t.getAsJsonObject().get("id")));
                }
                return v;
            }
        }
        throw new InvalidBundleException(folder, null, "no vocab.json (with merges.txt) or tokenizer.json in the"
                + " tokenizer folder");
    }

    private static String token(JsonObject special, JsonObject config, String key, String fallback) {
        for (JsonObject source : new JsonObject[] {special, config}) {
            if (source != null && source.has(key) && !source.get(key).isJsonNull()) {
                JsonElement e = source.get(key);
                if (e.isJsonObject() && e.getAsJsonObject().has("content")) {
                    return e.getAsJsonObject().get("content").getAsString();
                }
                if (e.isJsonPrimitive()) {
                    return e.getAsString();
                }
            }
        }
        return fallback;
    }

    private static JsonObject optionalJson(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new InvalidBundleException(file, null, "is not a readable JSON object: " + e.getMessage(), e);
        }
    }
}
