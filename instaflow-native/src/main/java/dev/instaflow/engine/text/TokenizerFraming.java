package dev.instaflow.engine.text;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.BundleFiles;
import dev.instaflow.engine.bundle.BundleManifest;

import java.nio.file.Path;

/**
 * The framing a tokenizer folder declares for itself: the begin, end and pad ids (from
 * {@code special_tokens_map.json} or {@code tokenizer_config.json}, looked up in the vocabulary; CLIP's markers and
 * "pad with the end marker" when absent) and the text length ({@code model_max_length}, 77 when absent). Used when
 * making a bundle and by {@code instaflow tokenize --tokenizer DIR}; a loaded bundle takes these from its manifest.
 */
@EntryPoint("CLIP's framing (markers, length): the CLI's tokenize, training's tokenizer, tooling")
public final class TokenizerFraming {
    /** CLIP's begin-of-text marker: the default when a tokenizer folder names none. */
    public static final String CLIP_BOS = "<|startoftext|>";
    /** CLIP's end-of-text marker (also its pad token in SD 1.5): the default when a tokenizer folder names none. */
    public static final String CLIP_EOS = "<|endoftext|>";
    /** The id of {@link #CLIP_BOS} in CLIP's vocabulary. */
    public static final long CLIP_BOS_ID = 49406;
    /** The id of {@link #CLIP_EOS} in CLIP's vocabulary. */
    public static final long CLIP_EOS_ID = 49407;
    /** CLIP's text length, markers included: the default when a tokenizer folder gives no model_max_length. */
    public static final int CLIP_MAX_LENGTH = 77;

    private TokenizerFraming() {
    }

    /** The framing, with {@code hiddenSize} 0 (a tokenizer folder does not know the text encoder's width). */
    public static BundleManifest.Text read(Path folder) {
        JsonObject vocab = ClipTokenizerFiles.vocabulary(folder);
        SpecialTokens special = SpecialTokens.read(folder);
        String eos = special.eos().orElse(CLIP_EOS);
        int maxLength = CLIP_MAX_LENGTH;
        Path configFile = folder.resolve(SpecialTokens.CONFIG_FILE);
        if (BundleFiles.present(configFile)) {
            JsonObject config = ClipTokenizerFiles.readJson(configFile);
            if (config.has("model_max_length") && config.get("model_max_length").isJsonPrimitive()
                    && config.get("model_max_length").getAsJsonPrimitive().isNumber()) {
                double v = config.get("model_max_length").getAsDouble();
                if (v >= 3 && v <= 4096) {
                    maxLength = (int) v;
                }
            }
        }
        return new BundleManifest.Text(maxLength, 0, id(folder, vocab, special.bos().orElse(CLIP_BOS)),
                id(folder, vocab, eos), id(folder, vocab, special.pad().orElse(eos)));
    }

    private static long id(Path folder, JsonObject vocab, String token) {
        JsonElement id = vocab.get(token);
        if (id == null) {
            throw new InvalidModelException(folder, null, "the vocabulary has no entry for the special token \""
                    + token + "\"");
        }
        return id.getAsLong();
    }

}
