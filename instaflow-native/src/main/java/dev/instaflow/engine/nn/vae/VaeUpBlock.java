package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code UpDecoderBlock2D} as the Decoder builds it: {@code layers_per_block + 1} resnets, then (except in
 * the last block) an {@code Upsample2D}: nearest-neighbour ×2 ({@code F.interpolate(scale_factor=2.0,
 * mode="nearest")}) and a 3×3 convolution.
 */
final class VaeUpBlock {
    private final VaeResnetBlock[] resnets;
    private final Conv2d upsampler;

    private VaeUpBlock(VaeResnetBlock[] resnets, Conv2d upsampler) {
        this.resnets = resnets;
        this.upsampler = upsampler;
    }

    static VaeUpBlock load(Weights w, VaeConfig c, long in, long out, boolean upsample) {
        VaeResnetBlock[] resnets = new VaeResnetBlock[c.layersPerBlock() + 1];
        for (int i = 0; i < resnets.length; i++) {
            resnets[i] = VaeResnetBlock.load(w.at("resnets").at(Integer.toString(i)), i == 0 ? in : out, out,
                    c.normGroups(), c.activation());
        }
        Conv2d up = upsample ? Conv2d.load(w.at("upsamplers").at("0").at("conv"), out, out, 3, 1, 1) : null;
        return new VaeUpBlock(resnets, up);
    }

    void forward(ActivationChain chain) {
        for (VaeResnetBlock r : resnets) {
            chain.then(r::forward);
        }
        if (upsampler != null) {
            chain.then(x -> {
                long[] s = x.sizes().vec().get();
                return upsampler.forward(torch.upsample_nearest2d(x, new long[] {2 * s[2], 2 * s[3]},
                        new DoubleOptional(), new DoubleOptional()));
            });
        }
    }
}
