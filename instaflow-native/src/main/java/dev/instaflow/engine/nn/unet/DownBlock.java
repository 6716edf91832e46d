package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * diffusers' {@code CrossAttnDownBlock2D} (a {@code Transformer2DModel} after each resnet) and {@code DownBlock2D}
 * (resnets only), with an optional {@code Downsample2D}. Pushes a skip connection after each resnet (and its
 * attention) and after the downsampler, as diffusers' {@code output_states}.
 */
final class DownBlock {
    private final ResnetBlock2D[] resnets;
    private final Transformer2DModel[] attentions;
    private final Downsample2D downsampler;

    private DownBlock(ResnetBlock2D[] resnets, Transformer2DModel[] attentions, Downsample2D downsampler) {
        this.resnets = resnets;
        this.attentions = attentions;
        this.downsampler = downsampler;
    }

    /** Block {@code i} of {@code c}, from {@code in} to {@code block_out_channels[i]} channels. */
    static DownBlock load(Weights w, UNetConfig c, int i, int in) {
        int out = c.blockOutChannels()[i];
        int layers = c.layersPerBlock()[i];
        boolean cross = c.crossAttentionDown(i);
        ResnetBlock2D[] resnets = new ResnetBlock2D[layers];
        Transformer2DModel[] attentions = cross ? new Transformer2DModel[layers] : null;
        for (int j = 0; j < layers; j++) {
            resnets[j] = ResnetBlock2D.load(w.at("resnets").at(Integer.toString(j)), j == 0 ? in : out, out,
                    c.timeEmbedDim(), c.normNumGroups(), c.normEps(), 1.0);
            if (cross) {
                attentions[j] = Transformer2DModel.load(w.at("attentions").at(Integer.toString(j)), out,
                        c.numAttentionHeads()[i], c.transformerLayersPerBlock()[i], c.crossAttentionDim(),
                        c.normNumGroups(), c.useLinearProjection(), c.upcastAttention());
            }
        }
        Downsample2D down = i < c.blocks() - 1
                ? Downsample2D.load(w.at("downsamplers").at("0"), out, c.downsamplePadding()) : null;
        return new DownBlock(resnets, attentions, down);
    }

    /** Returns the block's output; appends its skip connections to {@code skips}. */
    Tensor forward(Tensor x, Tensor temb, Tensor context, List<Tensor> skips, Tap tap) {
        Tensor h = x;
        for (int j = 0; j < resnets.length; j++) {
            h = tap.put("resnets" + j, resnets[j].forward(h, temb));
            if (attentions != null) {
                h = attentions[j].forward(h, context, tap.child("attentions" + j));
            }
            skips.add(h);
        }
        if (downsampler != null) {
            h = tap.put("downsamplers0", downsampler.forward(h));
            skips.add(h);
        }
        return h;
    }
}
