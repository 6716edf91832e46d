package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code DownEncoderBlock2D}: {@code layers_per_block} resnets, then (except in the last block) a
 * {@code Downsample2D} with {@code padding=0}: zero padding of one row at the bottom and one column at the right
 * ({@code F.pad(x, (0, 1, 0, 1))}), then a 3×3 convolution of stride 2, halving H and W.
 */
final class VaeDownBlock {
    private final VaeResnetBlock[] resnets;
    private final Conv2d downsampler;

    private VaeDownBlock(VaeResnetBlock[] resnets, Conv2d downsampler) {
        this.resnets = resnets;
        this.downsampler = downsampler;
    }

    static VaeDownBlock load(Weights w, VaeConfig c, long in, long out, boolean downsample) {
        VaeResnetBlock[] resnets = new VaeResnetBlock[c.layersPerBlock()];
        for (int i = 0; i < resnets.length; i++) {
            resnets[i] = VaeResnetBlock.load(w.at("resnets").at(Integer.toString(i)), i == 0 ? in : out, out,
                    c.normGroups(), c.activation());
        }
        Conv2d down = downsample ? Conv2d.load(w.at("downsamplers").at("0").at("conv"), out, out, 3, 2, 0) : null;
        return new VaeDownBlock(resnets, down);
    }

    void forward(ActivationChain chain) {
        for (VaeResnetBlock r : resnets) {
            chain.then(r::forward);
        }
        if (downsampler != null) {
            chain.then(x -> downsampler.forward(torch.constant_pad_nd(x, 0, 1, 0, 1)));
        }
    }
}
