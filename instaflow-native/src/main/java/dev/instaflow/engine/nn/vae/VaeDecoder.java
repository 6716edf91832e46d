package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.GroupNorm;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.network.VaeDecoderNetwork;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * diffusers' {@code AutoencoderKL.decode} (without tiling or slicing) built from LibTorch ops: {@code post_quant_conv}
 * (1×1) → {@code decoder.conv_in} → mid block (resnet, attention, resnet) → up blocks ({@code layers_per_block + 1}
 * resnets each, nearest ×2 upsampler except in the last) → {@code conv_norm_out} → SiLU → {@code conv_out}. The weights
 * stay owned by the model's state dict; {@link #close()} only marks this network closed.
 */
public final class VaeDecoder implements VaeDecoderNetwork {
    private final VaeConfig config;
    private final Path source;
    private final String field;
    private final Conv2d postQuantConv;
    private final Conv2d convIn;
    private final VaeMidBlock mid;
    private final VaeUpBlock[] up;
    private final GroupNorm normOut;
    private final Conv2d convOut;
    private volatile boolean closed;

    private VaeDecoder(VaeConfig config, Path source, String field, Conv2d postQuantConv, Conv2d convIn,
                       VaeMidBlock mid, VaeUpBlock[] up, GroupNorm normOut, Conv2d convOut) {
        this.config = config;
        this.source = source;
        this.field = field;
        this.postQuantConv = postQuantConv;
        this.convIn = convIn;
        this.mid = mid;
        this.up = up;
        this.normOut = normOut;
        this.convOut = convOut;
    }

    /**
     * Takes {@code post_quant_conv.*} (when {@code use_post_quant_conv}) and {@code decoder.*} from {@code w} (the
     * whole VAE state dict).
     *
     * @param source the {@code vae/} folder, for messages
     * @throws dev.instaflow.InvalidModelException naming the key for a missing or misshapen weight
     */
    public static VaeDecoder build(VaeConfig c, Weights w, Path source) {
        return build(c, w, source, "vae");
    }

    /** As {@link #build(VaeConfig, Weights, Path)}, reporting {@code field} as the snapshot field that named it. */
    public static VaeDecoder build(VaeConfig c, Weights w, Path source, String field) {
        long latent = c.latentChannels();
        Conv2d post = c.usePostQuantConv() ? Conv2d.load(w.at("post_quant_conv"), latent, latent, 1, 1, 0) : null;
        Weights d = w.at("decoder");
        int n = c.blocks();
        long top = c.blockChannels(n - 1);
        Conv2d convIn = Conv2d.load(d.at("conv_in"), latent, top, 3, 1, 1);
        VaeMidBlock mid = VaeMidBlock.load(d.at("mid_block"), c, top);
        VaeUpBlock[] up = new VaeUpBlock[n];
        long channels = top;
        for (int i = 0; i < n; i++) {
            long out = c.blockChannels(n - 1 - i);
            up[i] = VaeUpBlock.load(d.at("up_blocks").at(Integer.toString(i)), c, channels, out, i < n - 1);
            channels = out;
        }
        GroupNorm normOut = GroupNorm.load(d.at("conv_norm_out"), c.normGroups(), c.blockChannels(0),
                VaeResnetBlock.EPS);
        Conv2d convOut = Conv2d.load(d.at("conv_out"), c.blockChannels(0), c.outChannels(), 3, 1, 1);
        return new VaeDecoder(c, source, field, post, convIn, mid, up, normOut, convOut);
    }

    @Override
    public Tensor decode(Tensor z) {
        return decode(z, VaeTap.NONE);
    }

    Tensor decode(Tensor z, VaeTap tap) {
        checkOpen();
        long[] s = z.sizes().vec().get();
        if (s.length != 4 || s[1] != config.latentChannels()) {
            throw new IllegalArgumentException("the VAE decoder takes latents [B, " + config.latentChannels()
                    + ", h, w]; got " + Arrays.toString(s));
        }
        ActivationChain chain = new ActivationChain(z, tap);
        if (postQuantConv != null) {
            chain.then(postQuantConv::forward).tap("post_quant_conv");
        }
        chain.then(convIn::forward).tap("conv_in");
        mid.forward(chain);
        chain.tap("mid_block");
        for (int i = 0; i < up.length; i++) {
            up[i].forward(chain);
            chain.tap("up_block" + i);
        }
        chain.then(normOut::forward).tap("conv_norm_out");
        return chain.then(x -> convOut.forward(config.activation().apply(x))).tap("conv_out").result();
    }

    /** The configuration it was built from. */
    public VaeConfig config() {
        return config;
    }

    @Override
    public String role() {
        return "VAE decoder";
    }

    @Override
    public Path source() {
        return source;
    }

    @Override
    public String field() {
        return field;
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the VAE decoder (" + source + ") is closed");
        }
    }
}
