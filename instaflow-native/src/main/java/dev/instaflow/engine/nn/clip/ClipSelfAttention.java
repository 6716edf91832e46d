package dev.instaflow.engine.nn.clip;

import dev.instaflow.engine.nn.Attention;
import dev.instaflow.engine.nn.Linear;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code CLIPAttention} as the text tower uses it: causal multi-head self-attention with biased q/k/v/out projections
 * and scale {@code head_dim^-0.5} (fused SDPA's default), no padding mask (Stable Diffusion passes none).
 */
final class ClipSelfAttention {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear out;
    private final long heads;

    private ClipSelfAttention(Linear q, Linear k, Linear v, Linear out, long heads) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.out = out;
        this.heads = heads;
    }

    /** From the view {@code text_model.encoder.layers.{i}.self_attn}. */
    static ClipSelfAttention load(Weights w, ClipTextConfig config) {
        long d = config.hiddenSize();
        return new ClipSelfAttention(Linear.load(w.at("q_proj"), d, d, true), Linear.load(w.at("k_proj"), d, d, true),
                Linear.load(w.at("v_proj"), d, d, true), Linear.load(w.at("out_proj"), d, d, true), config.heads());
    }

    /** @param x {@code [B, L, D]}; @return {@code [B, L, D]} */
    Tensor forward(Tensor x) {
        return out.forward(Attention.attend(q.forward(x), k.forward(x), v.forward(x), heads, true));
    }
}
