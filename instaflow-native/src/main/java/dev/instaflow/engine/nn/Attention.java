package dev.instaflow.engine.nn;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Multi-head scaled dot-product attention on token-major tensors, through LibTorch's fused
 * {@code scaled_dot_product_attention} (the same softmax(q·kᵀ·d^-½)·v as diffusers' and transformers' classic
 * attention, within float rounding; a causal mask of -inf above the diagonal equals CLIP's additive mask of the dtype's
 * minimum after the softmax).
 */
public final class Attention {
    private Attention() {
    }

    /**
     * @param q      {@code [B, Lq, heads·d]}
     * @param k      {@code [B, Lk, heads·d]}
     * @param v      {@code [B, Lk, heads·d]}
     * @param heads  number of heads
     * @param causal whether token i may only attend to tokens ≤ i
     * @return {@code [B, Lq, heads·d]}
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, long heads, boolean causal) {
        // size(i) rather than sizes().vec(): a vector copy per call costs more than the small ops around it.
        long batch = q.size(0);
        long tokens = q.size(1);
        long width = q.size(2);
        long headDim = width / heads;
        Tensor qh = splitHeads(q, heads, headDim);
        Tensor kh = splitHeads(k, heads, headDim);
        Tensor vh = splitHeads(v, heads, headDim);
        Tensor out = torch.scaled_dot_product_attention(qh, kh, vh, new TensorOptional(), 0.0, causal,
                new DoubleOptional(), false);
        return out.transpose(1, 2).reshape(batch, tokens, width);
    }

    private static Tensor splitHeads(Tensor x, long heads, long headDim) {
        return x.view(x.size(0), x.size(1), heads, headDim).transpose(1, 2);
    }
}
