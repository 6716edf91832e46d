package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Activation;
import dev.instaflow.engine.nn.Linear;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code Timesteps} (the sinusoidal projection of {@code get_timestep_embedding}, in float32) followed by
 * {@code TimestepEmbedding} ({@code linear_1 -> silu -> linear_2}); keys {@code time_embedding.linear_{1,2}}.
 */
final class TimestepEmbedding {
    private static final double MAX_PERIOD = 10000;

    private final int channels;
    private final boolean flipSinToCos;
    private final double freqShift;
    private final Linear linear1;
    private final Linear linear2;

    private TimestepEmbedding(int channels, boolean flipSinToCos, double freqShift, Linear linear1, Linear linear2) {
        this.channels = channels;
        this.flipSinToCos = flipSinToCos;
        this.freqShift = freqShift;
        this.linear1 = linear1;
        this.linear2 = linear2;
    }

    /** {@code w} is the model's top view; {@code channels} = block_out_channels[0], {@code dim} = 4 × that. */
    static TimestepEmbedding load(Weights w, int channels, int dim, boolean flipSinToCos, double freqShift) {
        Weights e = w.at("time_embedding");
        return new TimestepEmbedding(channels, flipSinToCos, freqShift, Linear.load(e.at("linear_1"), channels, dim,
                true), Linear.load(e.at("linear_2"), dim, dim, true));
    }

    /**
     * {@code get_timestep_embedding(timesteps, channels, flip_sin_to_cos, freq_shift)}: float32 {@code [B, channels]}
     * with the same operations in the same order as diffusers.
     *
     * @param timesteps {@code [B]}, any real or integer dtype (used as float32)
     */
    Tensor project(Tensor timesteps) {
        long half = channels / 2;
        TensorOptions options = new TensorOptions(ScalarType.Float).device(new DeviceOptional(timesteps.device()));
        Tensor exponent = torch.arange(new Scalar(half), options).mul(new Scalar(-Math.log(MAX_PERIOD)));
        exponent = exponent.div(new Scalar(half - freqShift));
        Tensor freqs = torch.exp(exponent);
        Tensor t = Tensors.dtype(timesteps) == ScalarType.Float ? timesteps : timesteps.to(ScalarType.Float);
        Tensor emb = t.unsqueeze(1).mul(freqs.unsqueeze(0));
        emb = torch.cat(new TensorVector(torch.sin(emb), torch.cos(emb)), -1);
        if (flipSinToCos) {
            emb = torch.cat(new TensorVector(emb.narrow(1, half, half), emb.narrow(1, 0, half)), -1);
        }
        if (channels % 2 == 1) {
            emb = torch.constant_pad_nd(emb, 0, 1, 0, 0);
        }
        return emb;
    }

    /** {@code linear_2(silu(linear_1(tEmb)))}. */
    Tensor embed(Tensor tEmb) {
        return linear2.forward(Activation.SILU.apply(linear1.forward(tEmb)));
    }
}
