package dev.instaflow.engine.decode;

import dev.instaflow.InferenceException;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.network.VaeEncoderNetwork;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.Shapes;
import dev.instaflow.engine.runtime.TorchScriptPart;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.nio.file.Path;

/**
 * The VAE encoder stage (TorchScript or built in Java), the mirror of {@link VaeDecoder}: RGB in [0, 1]
 * {@code [B,3,H,W]} to {@code 2x - 1}, through the encoder to the mean of the latent distribution (no sampling),
 * times the scaling factor: the clean latent {@code x_init} a generation starts from. All float32 outside the
 * network.
 */
public final class ImageEncoder implements AutoCloseable {
    public static final String SIGNATURE = "(image: [B,3,H,W] in [-1,1]) -> latent mean [B,C,H/f,W/f] (not scaled)";

    private final VaeEncoderNetwork part;
    private final DeviceContext context;
    private final int factor;
    private final int channels;
    private final double scalingFactor;

    public ImageEncoder(VaeEncoderNetwork part, DeviceContext context, BundleManifest manifest) {
        this.part = part;
        this.context = context;
        this.factor = manifest.latent().vaeScaleFactor();
        this.channels = manifest.latent().channels();
        this.scalingFactor = manifest.latent().scalingFactor();
    }

    /** The bundle's optional {@code parts.vae_encoder}. */
    public static ImageEncoder load(Path file, BundleManifest manifest, DeviceContext context) {
        return new ImageEncoder(TorchScriptPart.load("VAE encoder", file, "parts.vae_encoder", 1, SIGNATURE, context),
                context, manifest);
    }

    /** {@code x_init = scaling_factor * mean(encoder(2 * rgb - 1))} for float32 RGB in [0, 1] on the device. */
    public Tensor encode(Tensor rgbUnit, PipelineTrace trace) {
        Tensor image = rgbUnit.mul(new Scalar(2.0)).sub(new Scalar(1.0));
        Tensor mean = encodeMean(image);
        if (trace.enabled()) {
            trace.record("vae_encoder_in", image);
            trace.record("vae_encoder_mean", mean);
        }
        return mean.mul(new Scalar(scalingFactor));
    }

    /** The network alone: float32 image in [-1, 1] to the float32 latent mean, shape checked. */
    public Tensor encodeMean(Tensor image) {
        Tensor out = part.encodeMean(context.toModelDtype(image));
        long[] s = image.sizes().vec().get();
        String problem = Shapes.mismatch(out, s[0], channels, s[2] / factor, s[3] / factor);
        if (problem != null) {
            throw new InferenceException("the VAE encoder part (" + part.source().getFileName() + ") returned "
                    + problem + " ([batch, " + channels + ", height / " + factor + ", width / " + factor + "])",
                    null);
        }
        return context.toFloat32(out);
    }

    /** Runs the part once on the smallest image and checks the output shape. */
    public void validate(BundleManifest manifest) {
        int side = manifest.image().sizeMultiple();
        Tensor image = torch.zeros(new long[] {1, 3, side, side}, context.options(ScalarType.Float));
        try {
            encodeMean(image);
        } catch (InferenceException e) {
            throw new InvalidModelException(part.source(), part.field(), "failed its load-time check: "
                    + e.getMessage() + "; expected forward" + SIGNATURE + " with f = latent.vae_scale_factor = "
                    + factor + manifest.loadHint(context.isCuda(), context.precision()), e);
        }
    }

    @Override
    public void close() {
        part.close();
    }
}
