package dev.instaflow.engine.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The special tokens a tokenizer folder declares in {@code special_tokens_map.json} (or, failing that,
 * {@code tokenizer_config.json}). Values may be plain strings or {@code {"content": ...}} objects.
 */
record SpecialTokens(Path source, Optional<String> bos, Optional<String> eos, Optional<String> unk,
                     Optional<String> pad) {
    static final String MAP_FILE = "special_tokens_map.json";
    static final String CONFIG_FILE = "tokenizer_config.json";

    static SpecialTokens read(Path folder) {
        for (String name : new String[] {MAP_FILE, CONFIG_FILE}) {
            Path file = folder.resolve(name);
            if (Files.isRegularFile(file)) {
                return from(file, ClipTokenizer.parseObject(file, ClipTokenizer.readText(file)));
            }
        }
        return new SpecialTokens(folder, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    private static SpecialTokens from(Path file, JsonObject source) {
        return new SpecialTokens(file, content(source, "bos_token"), content(source, "eos_token"),
                content(source, "unk_token"), content(source, "pad_token"));
    }

    private static Optional<String> content(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return Optional.empty();
        }
        if (e.isJsonObject()) {
            JsonElement c = e.getAsJsonObject().get("content");
            return c == null || !c.isJsonPrimitive() ? Optional.empty() : Optional.of(c.getAsString());
        }
        return e.isJsonPrimitive() ? Optional.of(e.getAsString()) : Optional.empty();
    }
}
