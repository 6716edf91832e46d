package dev.instaflow.engine.nn.clip;

import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.network.TextEncoderNetwork;
import dev.instaflow.engine.nn.LayerNorm;
import dev.instaflow.engine.nn.Layers;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.ArrayList;
import java.util.List;

/**
 * transformers' {@code CLIPTextModel} (the text encoder of SD 1.x / 2.x) built from LibTorch ops, taking every tensor
 * by its transformers key ({@code text_model.embeddings.token_embedding.weight}, ...,
 * {@code text_model.final_layer_norm.bias}). {@link #encode} returns {@code last_hidden_state}: token + position
 * embeddings, {@code num_hidden_layers} pre-LN layers of causal self-attention and MLP, then the final layer norm. No
 * padding mask, as Stable Diffusion pipelines call it.
 *
 * <p>The weights belong to the {@link dev.instaflow.engine.nn.StateDict} they were taken from (the model closes it);
 * {@link #close()} only marks this network closed. Calls are thread-safe and run in the caller's pointer scope and
 * inference mode; each layer's intermediates are freed as it returns ({@link Layers#scoped}).
 */
public final class ClipTextModel implements TextEncoderNetwork {
    private final ClipTextConfig config;
    private final Path source;
    private final ClipEmbeddings embeddings;
    private final List<ClipEncoderLayer> layers;
    private final LayerNorm finalNorm;
    private volatile boolean closed;

    private ClipTextModel(ClipTextConfig config, Path source, ClipEmbeddings embeddings,
                          List<ClipEncoderLayer> layers, LayerNorm finalNorm) {
        this.config = config;
        this.source = source;
        this.embeddings = embeddings;
        this.layers = layers;
        this.finalNorm = finalNorm;
    }

    /**
     * Builds the network from {@code weights} (the top of the component's state dict). With
     * {@code CLIPTextModelWithProjection}, {@code text_projection.weight} is marked ignored.
     *
     * @param source the component folder, for messages
     * @throws InvalidModelException naming the weights file and key when a tensor is missing or has the wrong shape
     */
    public static ClipTextModel build(ClipTextConfig config, Weights weights, Path source) {
        Weights text = weights.at("text_model");
        ClipEmbeddings embeddings = ClipEmbeddings.load(text.at("embeddings"), config);
        Weights encoderLayers = text.at("encoder").at("layers");
        List<ClipEncoderLayer> layers = new ArrayList<>(config.layers());
        for (int i = 0; i < config.layers(); i++) {
            layers.add(ClipEncoderLayer.load(encoderLayers.at(Integer.toString(i)), config));
        }
        LayerNorm finalNorm = LayerNorm.load(text.at("final_layer_norm"), config.hiddenSize(), config.layerNormEps());
        if (config.withProjection()) {
            weights.ignore("text_projection.weight");
        }
        return new ClipTextModel(config, source, embeddings, List.copyOf(layers), finalNorm);
    }

    public ClipTextConfig config() {
        return config;
    }

    /**
     * @param ids int64 {@code [B, L]}, {@code 1 ≤ L ≤ max_position_embeddings}, every id in {@code [0, vocab_size)}
     * @return {@code last_hidden_state} {@code [B, L, hidden_size]}
     * @throws IllegalArgumentException for ids of another dtype or rank, too long, or outside the vocabulary
     * @throws IllegalStateException    after {@link #close()}
     */
    @Override
    public Tensor encode(Tensor ids) {
        List<Tensor> states = run(ids, false);
        Tensor last = states.get(states.size() - 1);
        return Layers.scoped(() -> finalNorm.forward(last));
    }

    /**
     * The hidden states before the final layer norm, as transformers' {@code output_hidden_states}: entry 0 is the
     * embeddings' output, entry k the output of layer k ({@code num_hidden_layers + 1} entries).
     */
    List<Tensor> hiddenStates(Tensor ids) {
        return run(ids, true);
    }

    private List<Tensor> run(Tensor ids, boolean keepAll) {
        requireOpen();
        checkIds(ids);
        List<Tensor> states = new ArrayList<>(keepAll ? layers.size() + 1 : 1);
        Tensor h = Layers.scoped(() -> embeddings.forward(ids));
        if (keepAll) {
            states.add(h);
        }
        for (ClipEncoderLayer layer : layers) {
            Tensor in = h;
            h = Layers.scoped(() -> layer.forward(in));
            if (keepAll) {
                states.add(h);
            }
        }
        if (!keepAll) {
            states.add(h);
        }
        return states;
    }

    /** Shape, dtype and range checks in Java: an out-of-range index in the native lookup can crash the process. */
    private void checkIds(Tensor ids) {
        if (ids == null || ids.isNull()) {
            throw new IllegalArgumentException("the text encoder needs a tensor of token ids");
        }
        if (ids.dim() != 2 || ids.size(0) < 1 || ids.size(1) < 1) {
            throw new IllegalArgumentException("the text encoder takes token ids of shape [batch, length] with both"
                    + " at least 1, got " + Tensors.shapeString(ids));
        }
        if (Tensors.dtype(ids) != ScalarType.Long) {
            throw new IllegalArgumentException("the text encoder takes int64 token ids, got "
                    + Tensors.dtype(ids));
        }
        long length = ids.size(1);
        if (length > config.maxPositions()) {
            throw new IllegalArgumentException("the text encoder takes at most max_position_embeddings = "
                    + config.maxPositions() + " tokens per sequence (" + config.file() + "), got " + length);
        }
        T_TensorTensor_T range = ids.aminmax();
        long min = range.get0().item_long();
        long max = range.get1().item_long();
        if (min < 0 || max >= config.vocabSize()) {
            throw new IllegalArgumentException("token id " + (min < 0 ? min : max) + " is outside the text"
                    + " encoder's vocabulary [0, " + config.vocabSize() + ") (vocab_size of " + config.file()
                    + "); the tokenizer and the text encoder do not match");
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the " + role() + " (" + source + ") is closed");
        }
    }

    /** The vocabulary size of the config: the token embedding's rows. */
    @Override
    public OptionalLong tokenRows() {
        return OptionalLong.of(config.vocabSize());
    }

    /** The config's {@code max_position_embeddings}: the position embedding's rows. */
    @Override
    public OptionalLong positionRows() {
        return OptionalLong.of(config.maxPositions());
    }

    @Override
    public String role() {
        return "text encoder";
    }

    @Override
    public Path source() {
        return source;
    }

    @Override
    public String field() {
        return "text_encoder";
    }

    /** Marks the network closed (the weights belong to the state dict). Idempotent. */
    @Override
    public void close() {
        closed = true;
    }
}
