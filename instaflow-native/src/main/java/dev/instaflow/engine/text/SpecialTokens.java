package dev.instaflow.engine.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import dev.instaflow.engine.bundle.BundleFiles;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The special tokens a tokenizer folder declares, per token: from {@code special_tokens_map.json}, else from
 * {@code tokenizer_config.json}. Values may be plain strings or {@code {"content": ...}} objects. The one reader both
 * {@link TokenizerFraming} (what a new bundle records) and {@link ClipTokenizer} (what a loaded bundle is checked
 * against) use, so the two can never disagree.
 *
 * @param padSource the file that declared the pad token (for messages), or the folder when none did
 */
record SpecialTokens(Optional<String> bos, Optional<String> eos, Optional<String> unk, Optional<String> pad,
                     Path padSource) {
    static final String MAP_FILE = "special_tokens_map.json";
    static final String CONFIG_FILE = "tokenizer_config.json";

    static SpecialTokens read(Path folder) {
        Path mapFile = folder.resolve(MAP_FILE);
        Path configFile = folder.resolve(CONFIG_FILE);
        JsonObject map = BundleFiles.present(mapFile) ? ClipTokenizerFiles.readJson(mapFile) : new JsonObject();
        JsonObject config = BundleFiles.present(configFile) ? ClipTokenizerFiles.readJson(configFile)
                : new JsonObject();
        Optional<String> padFromMap = content(map, "pad_token");
        Optional<String> pad = padFromMap.or(() -> content(config, "pad_token"));
        Path padSource = padFromMap.isPresent() ? mapFile : pad.isPresent() ? configFile : folder;
        return new SpecialTokens(first(map, config, "bos_token"), first(map, config, "eos_token"),
                first(map, config, "unk_token"), pad, padSource);
    }

    /** The declared special tokens, and CLIP's default markers. */
    java.util.Set<String> all() {
        java.util.Set<String> all = new java.util.HashSet<>(java.util.List.of(TokenizerFraming.CLIP_BOS,
                TokenizerFraming.CLIP_EOS));
        for (Optional<String> t : java.util.List.of(bos, eos, unk, pad)) {
            t.ifPresent(all::add);
        }
        return all;
    }

    private static Optional<String> first(JsonObject map, JsonObject config, String key) {
        return content(map, key).or(() -> content(config, key));
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
