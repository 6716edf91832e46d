package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Layers;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.List;

/**
 * diffusers' {@code CrossAttnUpBlock2D} and {@code UpBlock2D}: {@code layers_per_block + 1} resnets, each on
 * {@code cat([hidden, skip], dim=1)} with the last skip popped, each followed by its transformer in the
 * cross-attention form; then an optional {@code Upsample2D} to the size of the next skip.
 */
final class UpBlock {
    private final ResnetBlock2D[] resnets;
    private final Transformer2DModel[] attentions;
    private final Upsample2D upsampler;

    private UpBlock(ResnetBlock2D[] resnets, Transformer2DModel[] attentions, Upsample2D upsampler) {
        this.resnets = resnets;
        this.attentions = attentions;
        this.upsampler = upsampler;
    }

    /** Up block {@code i} of {@code c} (block {@code n-1-i} of the down path, mirrored), as diffusers builds it. */
    static UpBlock load(Weights w, UNetConfig c, int i) {
        int n = c.blocks();
        int mirrored = n - 1 - i;
        int out = c.blockOutChannels()[mirrored];
        int prevOut = c.blockOutChannels()[Math.min(mirrored + 1, n - 1)];
        int in = c.blockOutChannels()[Math.max(mirrored - 1, 0)];
        int layers = c.layersPerBlock()[mirrored] + 1;
        boolean cross = c.crossAttentionUp(i);
        ResnetBlock2D[] resnets = new ResnetBlock2D[layers];
        Transformer2DModel[] attentions = cross ? new Transformer2DModel[layers] : null;
        for (int j = 0; j < layers; j++) {
            int skip = j == layers - 1 ? in : out;
            int resnetIn = j == 0 ? prevOut : out;
            resnets[j] = ResnetBlock2D.load(w.at("resnets").at(Integer.toString(j)), resnetIn + skip, out,
                    c.timeEmbedDim(), c.normNumGroups(), c.normEps(), 1.0);
            if (cross) {
                attentions[j] = Transformer2DModel.load(w.at("attentions").at(Integer.toString(j)), out,
                        c.numAttentionHeads()[mirrored], c.transformerLayersPerBlock()[mirrored],
                        c.crossAttentionDim(), c.normNumGroups(), c.useLinearProjection(), c.upcastAttention());
            }
        }
        Upsample2D up = i < n - 1 ? Upsample2D.load(w.at("upsamplers").at("0"), out) : null;
        return new UpBlock(resnets, attentions, up);
    }

    /** How many skip connections the block consumes. */
    int skipsNeeded() {
        return resnets.length;
    }

    /** Consumes the last {@link #skipsNeeded()} entries of {@code skips} (removing them). */
    Tensor forward(Tensor x, Tensor temb, Tensor context, List<Tensor> skips, Tap tap) {
        Tensor h = x;
        for (int j = 0; j < resnets.length; j++) {
            Tensor skip = skips.remove(skips.size() - 1);
            Tensor input = h;
            Tensor joined = Layers.scoped(() -> torch.cat(new TensorVector(input, skip), 1));
            h = tap.put("resnets" + j, resnets[j].forward(joined, temb));
            if (attentions != null) {
                h = attentions[j].forward(h, context, tap.child("attentions" + j));
            }
        }
        if (upsampler != null) {
            long[] size = null;
            if (!skips.isEmpty()) {
                long[] s = Tensors.shape(skips.get(skips.size() - 1));
                size = new long[] {s[2], s[3]};
            }
            h = tap.put("upsamplers0", upsampler.forward(h, size));
        }
        return h;
    }
}
