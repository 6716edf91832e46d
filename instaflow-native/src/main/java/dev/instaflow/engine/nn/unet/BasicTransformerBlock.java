package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Activation;
import dev.instaflow.engine.nn.LayerNorm;
import dev.instaflow.engine.nn.Layers;
import dev.instaflow.engine.nn.Linear;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * diffusers' {@code BasicTransformerBlock} with {@code norm_type="layer_norm"} (eps 1e-5), GEGLU feed-forward, not
 * only-cross-attention: {@code x += attn1(norm1(x))}, {@code x += attn2(norm2(x), context)},
 * {@code x += ff(norm3(x))} with {@code ff = net.2(h * gelu(gate))}, {@code h, gate = net.0.proj(x).chunk(2, -1)}.
 */
final class BasicTransformerBlock {
    private static final double LAYER_NORM_EPS = 1e-5;
    private static final int FF_MULT = 4;

    private final LayerNorm norm1;
    private final CrossAttention attn1;
    private final LayerNorm norm2;
    private final CrossAttention attn2;
    private final LayerNorm norm3;
    private final Linear ffProj;
    private final Linear ffOut;

    private BasicTransformerBlock(LayerNorm norm1, CrossAttention attn1, LayerNorm norm2, CrossAttention attn2,
                                  LayerNorm norm3, Linear ffProj, Linear ffOut) {
        this.norm1 = norm1;
        this.attn1 = attn1;
        this.norm2 = norm2;
        this.attn2 = attn2;
        this.norm3 = norm3;
        this.ffProj = ffProj;
        this.ffOut = ffOut;
    }

    static BasicTransformerBlock load(Weights w, int dim, int heads, int headDim, int crossDim, boolean upcast) {
        int ffInner = dim * FF_MULT;
        Weights ff = w.at("ff").at("net");
        return new BasicTransformerBlock(LayerNorm.load(w.at("norm1"), dim, LAYER_NORM_EPS),
                CrossAttention.load(w.at("attn1"), dim, dim, heads, headDim, upcast),
                LayerNorm.load(w.at("norm2"), dim, LAYER_NORM_EPS),
                CrossAttention.load(w.at("attn2"), dim, crossDim, heads, headDim, upcast),
                LayerNorm.load(w.at("norm3"), dim, LAYER_NORM_EPS),
                Linear.load(ff.at("0").at("proj"), dim, ffInner * 2, true),
                Linear.load(ff.at("2"), ffInner, dim, true));
    }

    /** @param x {@code [B, L, dim]}; runs in its own pointer scope */
    Tensor forward(Tensor x, Tensor context, Tap tap) {
        return Layers.scoped(() -> {
            Tensor a1 = tap.put("attn1", attn1.forward(norm1.forward(x), null));
            Tensor h = a1.add(x);
            Tensor a2 = tap.put("attn2", attn2.forward(norm2.forward(h), context));
            h = a2.add(h);
            TensorVector parts = ffProj.forward(norm3.forward(h)).chunk(2, -1);
            Tensor ff = tap.put("ff", ffOut.forward(parts.get(0).mul(Activation.GELU.apply(parts.get(1)))));
            return ff.add(h);
        });
    }
}
