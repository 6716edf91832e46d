package dev.instaflow.engine.nn.clip;

import dev.instaflow.engine.nn.LayerNorm;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code CLIPEncoderLayer}, pre-LN: {@code h = x + self_attn(layer_norm1(x))}, then
 * {@code h + mlp(layer_norm2(h))}.
 */
final class ClipEncoderLayer {
    private final LayerNorm norm1;
    private final ClipSelfAttention attention;
    private final LayerNorm norm2;
    private final ClipMlp mlp;

    private ClipEncoderLayer(LayerNorm norm1, ClipSelfAttention attention, LayerNorm norm2, ClipMlp mlp) {
        this.norm1 = norm1;
        this.attention = attention;
        this.norm2 = norm2;
        this.mlp = mlp;
    }

    /** From the view {@code text_model.encoder.layers.{i}}. */
    static ClipEncoderLayer load(Weights w, ClipTextConfig config) {
        return new ClipEncoderLayer(LayerNorm.load(w.at("layer_norm1"), config.hiddenSize(), config.layerNormEps()),
                ClipSelfAttention.load(w.at("self_attn"), config),
                LayerNorm.load(w.at("layer_norm2"), config.hiddenSize(), config.layerNormEps()),
                ClipMlp.load(w.at("mlp"), config));
    }

    /** @param x {@code [B, L, D]}; @return {@code [B, L, D]} */
    Tensor forward(Tensor x) {
        Tensor h = x.add(attention.forward(norm1.forward(x)));
        return h.add(mlp.forward(norm2.forward(h)));
    }
}
