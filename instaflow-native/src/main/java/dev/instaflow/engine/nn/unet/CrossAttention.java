package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Attention;
import dev.instaflow.engine.nn.Linear;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code Attention} as the transformer blocks of SD UNets use it: {@code to_q}, {@code to_k},
 * {@code to_v} without bias (k and v from {@code encoder_hidden_states} for cross-attention, from the input itself
 * for self-attention), {@code heads} heads of width {@code inner / heads}, scale {@code head_dim^-0.5}, then
 * {@code to_out.0} with bias ({@code to_out.1} is dropout). With {@code upcast_attention} and a dtype other than
 * float32, q·kᵀ and the softmax are computed in float32 and the probabilities cast back, as diffusers'
 * {@code get_attention_scores} does; otherwise fused scaled-dot-product attention.
 */
final class CrossAttention {
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;
    private final long heads;
    private final long headDim;
    private final boolean upcast;

    private CrossAttention(Linear toQ, Linear toK, Linear toV, Linear toOut, long heads, long headDim,
                           boolean upcast) {
        this.toQ = toQ;
        this.toK = toK;
        this.toV = toV;
        this.toOut = toOut;
        this.heads = heads;
        this.headDim = headDim;
        this.upcast = upcast;
    }

    /**
     * @param queryDim   width of the input tokens
     * @param contextDim width of the key/value tokens ({@code queryDim} for self-attention)
     */
    static CrossAttention load(Weights w, int queryDim, int contextDim, int heads, int headDim, boolean upcast) {
        int inner = heads * headDim;
        return new CrossAttention(Linear.load(w.at("to_q"), queryDim, inner, false),
                Linear.load(w.at("to_k"), contextDim, inner, false),
                Linear.load(w.at("to_v"), contextDim, inner, false),
                Linear.load(w.at("to_out").at("0"), inner, queryDim, true), heads, headDim, upcast);
    }

    /** @param context {@code [B, Lk, contextDim]}, or null for self-attention */
    Tensor forward(Tensor x, Tensor context) {
        Tensor kv = context == null ? x : context;
        Tensor q = toQ.forward(x);
        Tensor k = toK.forward(kv);
        Tensor v = toV.forward(kv);
        ScalarType dtype = Tensors.dtype(q);
        Tensor attended = upcast && dtype != ScalarType.Float ? upcastAttend(q, k, v, dtype)
                : Attention.attend(q, k, v, heads, false);
        return toOut.forward(attended);
    }

    private Tensor upcastAttend(Tensor q, Tensor k, Tensor v, ScalarType dtype) {
        long[] qs = Tensors.shape(q);
        long[] ks = Tensors.shape(k);
        Tensor qh = q.to(ScalarType.Float).view(qs[0], qs[1], heads, headDim).transpose(1, 2);
        Tensor kh = k.to(ScalarType.Float).view(ks[0], ks[1], heads, headDim).transpose(1, 2);
        Tensor vh = v.view(ks[0], ks[1], heads, headDim).transpose(1, 2);
        Tensor scores = qh.matmul(kh.transpose(-1, -2)).mul(new Scalar(Math.pow(headDim, -0.5)));
        Tensor probs = scores.softmax(-1).to(dtype);
        return probs.matmul(vh).transpose(1, 2).reshape(qs[0], qs[1], heads * headDim);
    }
}
