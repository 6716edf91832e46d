package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.GroupNorm;
import dev.instaflow.engine.nn.Layers;
import dev.instaflow.engine.nn.Linear;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' {@code Transformer2DModel} on continuous input: {@code GroupNorm(groups, eps 1e-6)}, then
 * {@code proj_in}: a 1x1 conv before the NCHW → {@code [B, h·w, C]} flatten, or (with
 * {@code use_linear_projection}) a Linear after it; the {@code BasicTransformerBlock}s; {@code proj_out} mirrored
 * (a Linear before the reshape back, or a 1x1 conv after it); plus the input.
 */
final class Transformer2DModel {
    private static final double NORM_EPS = 1e-6;

    private final GroupNorm norm;
    private final Conv2d projInConv;
    private final Linear projInLinear;
    private final BasicTransformerBlock[] blocks;
    private final Conv2d projOutConv;
    private final Linear projOutLinear;
    private final long inner;

    private Transformer2DModel(GroupNorm norm, Conv2d projInConv, Linear projInLinear, BasicTransformerBlock[] blocks,
                               Conv2d projOutConv, Linear projOutLinear, long inner) {
        this.norm = norm;
        this.projInConv = projInConv;
        this.projInLinear = projInLinear;
        this.blocks = blocks;
        this.projOutConv = projOutConv;
        this.projOutLinear = projOutLinear;
        this.inner = inner;
    }

    static Transformer2DModel load(Weights w, int channels, int heads, int layers, int crossDim, int groups,
                                   boolean linear, boolean upcast) {
        int headDim = channels / heads;
        int inner = heads * headDim;
        BasicTransformerBlock[] blocks = new BasicTransformerBlock[layers];
        for (int i = 0; i < layers; i++) {
            blocks[i] = BasicTransformerBlock.load(w.at("transformer_blocks").at(Integer.toString(i)), inner, heads,
                    headDim, crossDim, upcast);
        }
        GroupNorm norm = GroupNorm.load(w.at("norm"), groups, channels, NORM_EPS);
        if (linear) {
            return new Transformer2DModel(norm, null, Linear.load(w.at("proj_in"), channels, inner, true), blocks,
                    null, Linear.load(w.at("proj_out"), inner, channels, true), inner);
        }
        return new Transformer2DModel(norm, Conv2d.load(w.at("proj_in"), channels, inner, 1, 1, 0), null, blocks,
                Conv2d.load(w.at("proj_out"), inner, channels, 1, 1, 0), null, inner);
    }

    /** @param x {@code [B, C, h, w]}; runs in its own pointer scope */
    Tensor forward(Tensor x, Tensor context, Tap tap) {
        return Layers.scoped(() -> {
            long[] s = Tensors.shape(x);
            long b = s[0];
            long c = s[1];
            long hw = s[2] * s[3];
            Tensor h = tap.put("norm", norm.forward(x));
            if (projInLinear == null) {
                h = tap.put("proj_in", projInConv.forward(h));
                h = h.permute(0, 2, 3, 1).reshape(b, hw, inner);
            } else {
                h = h.permute(0, 2, 3, 1).reshape(b, hw, c);
                h = tap.put("proj_in", projInLinear.forward(h));
            }
            for (int i = 0; i < blocks.length; i++) {
                h = blocks[i].forward(h, context, i == 0 ? tap : tap.child("transformer_blocks" + i));
            }
            if (projOutLinear == null) {
                h = h.reshape(b, s[2], s[3], inner).permute(0, 3, 1, 2).contiguous();
                h = projOutConv.forward(h);
            } else {
                h = projOutLinear.forward(h);
                h = h.reshape(b, s[2], s[3], c).permute(0, 3, 1, 2).contiguous();
            }
            return tap.put(h.add(x));
        });
    }
}
