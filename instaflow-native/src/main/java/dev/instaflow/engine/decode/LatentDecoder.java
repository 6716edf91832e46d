package dev.instaflow.engine.decode;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.engine.runtime.FiniteCheck;
import dev.instaflow.engine.runtime.PipelineTrace;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Latents to 8-bit pixels, on the model's device, as diffusers' {@code VaeImageProcessor} does it:
 * {@code z / scaling_factor} through the VAE decoder, then {@code x / 2 + 0.5}, clamp to [0, 1], channels last,
 * {@code * 255}, round half to even (NumPy's {@code round}), uint8. The decoder's output is cast to float32 first;
 * diffusers' float16 pipelines clamp in float16, which can flip a few pixels by one level. The result is {@code [B, H, W, 3]} in BGR
 * order, the byte layout of {@link java.awt.image.BufferedImage#TYPE_3BYTE_BGR}, so the host copy is the last step.
 */
@EntryPoint("the SDK's pixel quantisation: training's images")
public final class LatentDecoder {
    private final VaeDecoder vae;
    private final double scalingFactor;

    public LatentDecoder(VaeDecoder vae, double scalingFactor) {
        this.vae = vae;
        this.scalingFactor = scalingFactor;
    }

    /** uint8 {@code [B, H, W, 3]} BGR pixels of float32 latents {@code [B, C, h, w]}: what images are made of. */
    public Tensor toPixels(Tensor latents, PipelineTrace trace) {
        return toRgb(latents, trace).flip(3);
    }

    /**
     * {@link #toPixels(Tensor, PipelineTrace)}, queueing the check that the decoded image (before quantisation,
     * which would turn NaN into black) is finite.
     */
    public Tensor toPixels(Tensor latents, PipelineTrace trace, FiniteCheck finite) {
        return toRgb(latents, trace, finite).flip(3);
    }

    /** uint8 {@code [B, H, W, 3]} RGB pixels of float32 latents {@code [B, C, h, w]}. */
    public Tensor toRgb(Tensor latents, PipelineTrace trace) {
        return toRgb(latents, trace, null);
    }

    private Tensor toRgb(Tensor latents, PipelineTrace trace, FiniteCheck finite) {
        Tensor z = latents.div(new Scalar(scalingFactor));
        Tensor decoded = vae.decode(z);
        if (trace.enabled()) {
            trace.record("vae_in_latents", z);
            trace.record("image_decoded", decoded);
        }
        if (finite != null) {
            finite.record("the decoded image (the VAE decoder's output for latents / latent.scaling_factor)", decoded);
        }
        return quantize(decoded, trace);
    }

    /**
     * A decoded image {@code [B, 3, H, W]} in about [-1, 1] to uint8 RGB {@code [B, H, W, 3]}: {@code x / 2 + 0.5},
     * clamp to [0, 1], channels last, {@code * 255}, round half to even.
     */
    public static Tensor quantize(Tensor decoded, PipelineTrace trace) {
        Tensor unit = decoded.div(new Scalar(2.0)).add(new Scalar(0.5))
                .clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)));
        Tensor channelsLast = unit.permute(0, 2, 3, 1);
        Tensor rgb = channelsLast.mul(new Scalar(255.0)).round().to(ScalarType.Byte);
        if (trace.enabled()) {
            trace.record("image_float", channelsLast);
            trace.record("image_uint8", rgb);
        }
        return rgb;
    }
}
