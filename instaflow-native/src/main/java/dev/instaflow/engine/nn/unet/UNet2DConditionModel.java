package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Activation;
import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.GroupNorm;
import dev.instaflow.engine.nn.Layers;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.network.DenoiserNetwork;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * diffusers' {@code UNet2DConditionModel} for the SD-1.x / SD-2.x configurations {@link UNetConfig} accepts, built from
 * LibTorch ops on the weights of a diffusers {@code unet/} folder, every tensor taken by its diffusers key:
 * {@code time_proj} (sinusoidal) → {@code time_embedding}; {@code conv_in}; the down blocks pushing skip
 * connections; the mid block; the up blocks popping them; {@code conv_norm_out} → silu → {@code conv_out}.
 *
 * <p>The network does not own its weights (the {@link dev.instaflow.engine.nn.StateDict} they came from does);
 * {@link #close()} only marks it closed. Calls are thread-safe and run inside the caller's pointer scope; every
 * resnet, transformer and sampler runs in its own scope so that its intermediates are freed when it returns.
 */
public final class UNet2DConditionModel implements DenoiserNetwork {
    private final UNetConfig config;
    private final Path source;
    private final TimestepEmbedding time;
    private final Conv2d convIn;
    private final DownBlock[] down;
    private final MidBlock mid;
    private final UpBlock[] up;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;
    private volatile boolean closed;

    private UNet2DConditionModel(UNetConfig config, Path source, TimestepEmbedding time, Conv2d convIn,
                                 DownBlock[] down, MidBlock mid, UpBlock[] up, GroupNorm convNormOut,
                                 Conv2d convOut) {
        this.config = config;
        this.source = source;
        this.time = time;
        this.convIn = convIn;
        this.down = down;
        this.mid = mid;
        this.up = up;
        this.convNormOut = convNormOut;
        this.convOut = convOut;
    }

    /**
     * Builds the network of {@code c} from {@code w} (the component's top-level weights).
     *
     * @param source the component folder, for messages
     * @throws dev.instaflow.InvalidModelException naming the weights file and key of a missing tensor or a tensor
     *                                              whose shape the config does not predict
     */
    public static UNet2DConditionModel build(UNetConfig c, Weights w, Path source) {
        int[] boc = c.blockOutChannels();
        int n = c.blocks();
        TimestepEmbedding time = TimestepEmbedding.load(w, boc[0], c.timeEmbedDim(), c.flipSinToCos(),
                c.freqShift());
        Conv2d convIn = Conv2d.load(w.at("conv_in"), c.inChannels(), boc[0], 3, 1, 1);
        DownBlock[] down = new DownBlock[n];
        int channels = boc[0];
        for (int i = 0; i < n; i++) {
            down[i] = DownBlock.load(w.at("down_blocks").at(Integer.toString(i)), c, i, channels);
            channels = boc[i];
        }
        MidBlock mid = MidBlock.load(w.at("mid_block"), c);
        UpBlock[] up = new UpBlock[n];
        for (int i = 0; i < n; i++) {
            up[i] = UpBlock.load(w.at("up_blocks").at(Integer.toString(i)), c, i);
        }
        GroupNorm convNormOut = GroupNorm.load(w.at("conv_norm_out"), c.normNumGroups(), boc[0], c.normEps());
        Conv2d convOut = Conv2d.load(w.at("conv_out"), boc[0], c.outChannels(), 3, 1, 1);
        return new UNet2DConditionModel(c, source, time, convIn, down, mid, up, convNormOut, convOut);
    }

    public UNetConfig config() {
        return config;
    }

    @Override
    public String role() {
        return "denoiser";
    }

    @Override
    public Path source() {
        return source;
    }

    @Override
    public String field() {
        return "unet";
    }

    /**
     * @param sample              {@code [B, in_channels, h, w]} in the model dtype, h and w divisible by
     *                            {@code 2^(number of downsamplers)}
     * @param timestep            {@code [B]} or {@code [1]} (broadcast to B), float32 (other dtypes are used as
     *                            float32, as diffusers does)
     * @param encoderHiddenStates {@code [B, L, cross_attention_dim]} in the model dtype
     * @return {@code [B, out_channels, h, w]}
     */
    @Override
    public Tensor predict(Tensor sample, Tensor timestep, Tensor encoderHiddenStates) {
        return forward(sample, timestep, encoderHiddenStates, null);
    }

    /** {@link #predict} reporting the intermediate tensors to {@code tap} (names as the fixtures' debug hooks). */
    Tensor forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, BiConsumer<String, Tensor> sink) {
        if (closed) {
            throw new IllegalStateException("the UNet of " + source + " is closed");
        }
        Tap tap = Tap.of(sink);
        long batch = checkInputs(sample, timestep, encoderHiddenStates);
        // diffusers: timesteps[None] for a 0-d one, expand to the batch, used as float32 on the sample's device.
        Tensor t = (timestep.dim() == 0 ? timestep.reshape(1) : timestep).to(sample.device(), ScalarType.Float);
        if (t.numel() == 1 && batch > 1) {
            t = t.expand(batch);
        }
        Tensor steps = t;
        Tensor emb = Layers.scoped(() -> {
            Tensor proj = tap.put("time_proj", time.project(steps)).to(Tensors.dtype(sample));
            return tap.put("time_embedding", time.embed(proj));
        });
        Tensor h = tap.put("conv_in", Layers.scoped(() -> convIn.forward(sample)));
        List<Tensor> skips = new ArrayList<>();
        skips.add(h);
        for (int i = 0; i < down.length; i++) {
            h = tap.put("down_block" + i, down[i].forward(h, emb, encoderHiddenStates, skips,
                    tap.child("down_block" + i)));
        }
        h = tap.put("mid_block", mid.forward(h, emb, encoderHiddenStates, tap.child("mid_block")));
        for (int i = 0; i < up.length; i++) {
            h = tap.put("up_block" + i, up[i].forward(h, emb, encoderHiddenStates, skips, tap.child("up_block" + i)));
        }
        Tensor last = h;
        return Layers.scoped(() -> {
            Tensor normed = tap.put("conv_norm_out", convNormOut.forward(last));
            return tap.put("conv_out", convOut.forward(Activation.SILU.apply(normed)));
        });
    }

    private long checkInputs(Tensor sample, Tensor timestep, Tensor context) {
        long[] s = Tensors.shape(sample);
        if (s.length != 4 || s[1] != config.inChannels()) {
            throw new IllegalArgumentException("the UNet takes a sample [B, " + config.inChannels()
                    + ", h, w], got " + Arrays.toString(s));
        }
        long factor = 1L << config.downsamplers();
        if (s[2] % factor != 0 || s[3] % factor != 0) {
            throw new IllegalArgumentException("the UNet's latent size " + s[2] + "x" + s[3] + " is not divisible by "
                    + factor + " (its " + config.downsamplers() + " downsamplers halve it " + config.downsamplers()
                    + " times); use a latent height and width that are multiples of " + factor);
        }
        long[] ts = Tensors.shape(timestep);
        long tn = timestep.numel();
        if (ts.length > 1 || (tn != 1 && tn != s[0])) {
            throw new IllegalArgumentException("the UNet takes a timestep [B] or [1] for a batch of " + s[0]
                    + ", got " + Arrays.toString(ts));
        }
        long[] cs = Tensors.shape(context);
        if (cs.length != 3 || cs[2] != config.crossAttentionDim()) {
            throw new IllegalArgumentException("the UNet takes encoder hidden states [B, L, "
                    + config.crossAttentionDim() + "] (cross_attention_dim of " + config.file() + "), got "
                    + Arrays.toString(cs));
        }
        if (cs[0] != s[0]) {
            throw new IllegalArgumentException("the encoder hidden states' batch " + cs[0]
                    + " differs from the sample's " + s[0]);
        }
        return s[0];
    }

    /** Marks the network closed; the weights belong to the state dict it was built from. Idempotent. */
    @Override
    public void close() {
        closed = true;
    }
}
