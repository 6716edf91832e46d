package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' {@code UNetMidBlock2DCrossAttn} with one layer: {@code resnets.0}, {@code attentions.0},
 * {@code resnets.1} on {@code block_out_channels[-1]} channels, the resnets dividing by
 * {@code mid_block_scale_factor}, the transformer with the last block's head count.
 */
final class MidBlock {
    private final ResnetBlock2D first;
    private final Transformer2DModel attention;
    private final ResnetBlock2D second;

    private MidBlock(ResnetBlock2D first, Transformer2DModel attention, ResnetBlock2D second) {
        this.first = first;
        this.attention = attention;
        this.second = second;
    }

    static MidBlock load(Weights w, UNetConfig c) {
        int last = c.blocks() - 1;
        int ch = c.blockOutChannels()[last];
        Weights r = w.at("resnets");
        return new MidBlock(
                ResnetBlock2D.load(r.at("0"), ch, ch, c.timeEmbedDim(), c.normNumGroups(), c.normEps(),
                        c.midBlockScaleFactor()),
                Transformer2DModel.load(w.at("attentions").at("0"), ch, c.numAttentionHeads()[last],
                        c.transformerLayersPerBlock()[last], c.crossAttentionDim(), c.normNumGroups(),
                        c.useLinearProjection(), c.upcastAttention()),
                ResnetBlock2D.load(r.at("1"), ch, ch, c.timeEmbedDim(), c.normNumGroups(), c.normEps(),
                        c.midBlockScaleFactor()));
    }

    Tensor forward(Tensor x, Tensor temb, Tensor context, Tap tap) {
        Tensor h = tap.put("resnets0", first.forward(x, temb));
        h = attention.forward(h, context, tap.child("attentions0"));
        return tap.put("resnets1", second.forward(h, temb));
    }
}
