package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.GroupNorm;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.network.VaeEncoderNetwork;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * diffusers' {@code AutoencoderKL.encode(x).latent_dist.mean} (without tiling or slicing) built from LibTorch ops:
 * {@code encoder.conv_in} → down blocks ({@code layers_per_block} resnets each, a stride-2 downsampler except in the
 * last) → mid block (resnet, attention, resnet) → {@code conv_norm_out} → SiLU → {@code conv_out} (to
 * {@code 2·latent_channels}, {@code double_z}) → {@code quant_conv} (1×1) → the first {@code latent_channels}
 * channels (the mean; the rest is the log-variance). The weights stay owned by the model's state dict;
 * {@link #close()} only marks this network closed.
 */
public final class VaeEncoder implements VaeEncoderNetwork {
    private final VaeConfig config;
    private final Path source;
    private final String field;
    private final Conv2d convIn;
    private final VaeDownBlock[] down;
    private final VaeMidBlock mid;
    private final GroupNorm normOut;
    private final Conv2d convOut;
    private final Conv2d quantConv;
    private volatile boolean closed;

    private VaeEncoder(VaeConfig config, Path source, String field, Conv2d convIn, VaeDownBlock[] down,
                       VaeMidBlock mid, GroupNorm normOut, Conv2d convOut, Conv2d quantConv) {
        this.config = config;
        this.source = source;
        this.field = field;
        this.convIn = convIn;
        this.down = down;
        this.mid = mid;
        this.normOut = normOut;
        this.convOut = convOut;
        this.quantConv = quantConv;
    }

    /**
     * Takes {@code encoder.*} and {@code quant_conv.*} (when {@code use_quant_conv}) from {@code w} (the whole VAE
     * state dict).
     *
     * @param source the {@code vae/} folder, for messages
     * @throws dev.instaflow.InvalidModelException naming the key for a missing or misshapen weight
     */
    public static VaeEncoder build(VaeConfig c, Weights w, Path source) {
        return build(c, w, source, "vae");
    }

    /** As {@link #build(VaeConfig, Weights, Path)}, reporting {@code field} as the snapshot field that named it. */
    public static VaeEncoder build(VaeConfig c, Weights w, Path source, String field) {
        Weights e = w.at("encoder");
        int n = c.blocks();
        Conv2d convIn = Conv2d.load(e.at("conv_in"), c.inChannels(), c.blockChannels(0), 3, 1, 1);
        VaeDownBlock[] down = new VaeDownBlock[n];
        long channels = c.blockChannels(0);
        for (int i = 0; i < n; i++) {
            long out = c.blockChannels(i);
            down[i] = VaeDownBlock.load(e.at("down_blocks").at(Integer.toString(i)), c, channels, out, i < n - 1);
            channels = out;
        }
        long top = c.blockChannels(n - 1);
        VaeMidBlock mid = VaeMidBlock.load(e.at("mid_block"), c, top);
        GroupNorm normOut = GroupNorm.load(e.at("conv_norm_out"), c.normGroups(), top, VaeResnetBlock.EPS);
        long moments = 2L * c.latentChannels();
        Conv2d convOut = Conv2d.load(e.at("conv_out"), top, moments, 3, 1, 1);
        Conv2d quant = c.useQuantConv() ? Conv2d.load(w.at("quant_conv"), moments, moments, 1, 1, 0) : null;
        return new VaeEncoder(c, source, field, convIn, down, mid, normOut, convOut, quant);
    }

    @Override
    public Tensor encodeMean(Tensor image) {
        return encodeMean(image, VaeTap.NONE);
    }

    Tensor encodeMean(Tensor image, VaeTap tap) {
        checkOpen();
        long[] s = image.sizes().vec().get();
        if (s.length != 4 || s[1] != config.inChannels()) {
            throw new IllegalArgumentException("the VAE encoder takes images [B, " + config.inChannels()
                    + ", H, W]; got " + Arrays.toString(s));
        }
        int f = config.vaeScaleFactor();
        if (s[2] % f != 0 || s[3] % f != 0) {
            throw new IllegalArgumentException("the VAE encoder needs an image size divisible by the VAE scale factor "
                    + f + "; got " + s[3] + "×" + s[2] + " (width×height)");
        }
        ActivationChain chain = new ActivationChain(image, tap);
        chain.then(convIn::forward).tap("conv_in");
        for (int i = 0; i < down.length; i++) {
            down[i].forward(chain);
            chain.tap("down_block" + i);
        }
        mid.forward(chain);
        chain.tap("mid_block");
        chain.then(normOut::forward).tap("conv_norm_out");
        chain.then(x -> convOut.forward(config.activation().apply(x))).tap("conv_out");
        if (quantConv != null) {
            chain.then(quantConv::forward).tap("quant_conv");
        }
        return chain.then(x -> x.narrow(1, 0, config.latentChannels()).contiguous()).result();
    }

    /** The configuration it was built from. */
    public VaeConfig config() {
        return config;
    }

    @Override
    public String role() {
        return "VAE encoder";
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
            throw new IllegalStateException("the VAE encoder (" + source + ") is closed");
        }
    }
}
