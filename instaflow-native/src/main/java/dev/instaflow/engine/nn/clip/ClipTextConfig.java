package dev.instaflow.engine.nn.clip;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.JsonFields;
import dev.instaflow.engine.nn.Activation;

import java.nio.file.Path;
import java.util.List;

/**
 * The fields of a transformers {@code CLIPTextConfig} ({@code text_encoder/config.json} of a diffusers snapshot) that
 * shape the network. Token ids ({@code bos_token_id}, {@code eos_token_id}, {@code pad_token_id}) are deliberately not
 * read: SD 2.x's file carries OpenCLIP-conversion values that are not the tokenizer's; the tokenizer folder decides.
 * Keys not listed here ({@code projection_dim}, {@code torch_dtype}, dropout, initialiser settings) are ignored.
 *
 * @param file                  the config.json, for messages
 * @param architecture          {@code CLIPTextModel} or {@code CLIPTextModelWithProjection}
 * @param hiddenSize            {@code hidden_size}, the width D of {@code last_hidden_state}
 * @param intermediateSize      {@code intermediate_size}, the MLP width
 * @param heads                 {@code num_attention_heads}, a divisor of {@code hidden_size}
 * @param layers                {@code num_hidden_layers}
 * @param maxPositions          {@code max_position_embeddings}, the longest id sequence
 * @param vocabSize             {@code vocab_size}: ids lie in {@code [0, vocabSize)}
 * @param activation            {@code hidden_act} (transformers' default {@code quick_gelu} when absent)
 * @param layerNormEps          {@code layer_norm_eps} (transformers' default 1e-5 when absent)
 */
@EntryPoint("a text encoder's config: the CLI's inspect")
public record ClipTextConfig(Path file, String architecture, int hiddenSize, int intermediateSize, int heads,
                             int layers, int maxPositions, int vocabSize, Activation activation,
                             double layerNormEps) {
    /** The transformers class this network implements. */
    public static final String TEXT_MODEL = "CLIPTextModel";
    /** Also accepted: the same tower plus a {@code text_projection}, which {@code last_hidden_state} does not use. */
    public static final String TEXT_MODEL_WITH_PROJECTION = "CLIPTextModelWithProjection";

    private static final List<String> SUPPORTED = List.of(TEXT_MODEL, TEXT_MODEL_WITH_PROJECTION);
    private static final int MAX_SIZE = 1 << 20;

    /**
     * Reads {@code configJson}.
     *
     * @throws InvalidModelException naming the file and the field when a field is missing, mistyped, out of range,
     *                                an unsupported activation or architecture, or the heads do not divide the width
     */
    public static ClipTextConfig read(Path configJson) {
        JsonFields f = JsonFields.read(configJson);
        String architecture = TEXT_MODEL;
        if (f.has("architectures")) {
            List<String> names = f.strings("architectures");
            if (names.size() != 1 || !SUPPORTED.contains(names.get(0))) {
                throw f.error("architectures", "is " + names + ", which the built-in CLIP text encoder does not"
                        + " implement; supported: " + String.join(", ", SUPPORTED));
            }
            architecture = names.get(0);
        }
        int hidden = f.integer("hidden_size", 1, MAX_SIZE);
        int intermediate = f.integer("intermediate_size", 1, MAX_SIZE);
        int heads = f.integer("num_attention_heads", 1, MAX_SIZE);
        if (hidden % heads != 0) {
            throw f.error("num_attention_heads", "is " + heads + ", which does not divide hidden_size " + hidden);
        }
        int layers = f.integer("num_hidden_layers", 1, 1024);
        int maxPositions = f.integer("max_position_embeddings", 1, MAX_SIZE);
        int vocab = f.integer("vocab_size", 1, Integer.MAX_VALUE);
        Activation activation = Activation.fromConfig(f.string("hidden_act", "quick_gelu"), configJson,
                f.path("hidden_act"));
        double eps = f.has("layer_norm_eps") ? f.positiveNumber("layer_norm_eps") : 1e-5;
        return new ClipTextConfig(configJson, architecture, hidden, intermediate, heads, layers, maxPositions, vocab,
                activation, eps);
    }

    /** {@code hidden_size / num_attention_heads}. */
    public int headDim() {
        return hiddenSize / heads;
    }

    /** Whether the checkpoint may hold a {@code text_projection.weight} (ignored: not part of the hidden states). */
    public boolean withProjection() {
        return TEXT_MODEL_WITH_PROJECTION.equals(architecture);
    }
}
