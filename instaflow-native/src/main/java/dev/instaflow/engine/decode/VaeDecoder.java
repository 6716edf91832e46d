package dev.instaflow.engine.decode;

import dev.instaflow.InferenceException;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.Shapes;
import dev.instaflow.engine.network.VaeDecoderNetwork;
import dev.instaflow.engine.runtime.TorchScriptPart;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The VAE decoder stage (TorchScript or built in Java): {@code z [B,C,h,w] -> image [B,3,f*h,f*w]} in about [-1, 1], where z is the latent already
 * divided by the scaling factor (the part includes {@code post_quant_conv}).
 */
public final class VaeDecoder implements AutoCloseable {
    public static final String SIGNATURE = "(z: [B,C,h,w], already divided by latent.scaling_factor) -> [B,3,f*h,f*w]";

    private final VaeDecoderNetwork part;
    private final DeviceContext context;
    private final int factor;

    public VaeDecoder(VaeDecoderNetwork part, DeviceContext context, int factor) {
        this.part = part;
        this.context = context;
        this.factor = factor;
    }

    public static VaeDecoder load(Bundle bundle, DeviceContext context) {
        return new VaeDecoder(TorchScriptPart.load("VAE decoder", bundle.vaeDecoder(), "parts.vae_decoder", 1,
                SIGNATURE, context), context, bundle.manifest().latent().vaeScaleFactor());
    }

    /** Decodes float32 {@code z}; the image is float32. */
    public Tensor decode(Tensor z) {
        Tensor out = part.decode(context.toModelDtype(z));
        long[] s = z.sizes().vec().get();
        String problem = Shapes.mismatch(out, s[0], 3, s[2] * factor, s[3] * factor);
        if (problem != null) {
            throw new InferenceException("the VAE decoder part (" + part.source().getFileName() + ") returned "
                    + problem + " ([batch, 3, latent height x " + factor + ", latent width x " + factor + "])", null);
        }
        return context.toFloat32(out);
    }

    /** Runs the part once on the smallest latent and checks the output shape. */
    public void validate(BundleManifest manifest) {
        int side = manifest.image().sizeMultiple() / manifest.latent().vaeScaleFactor();
        Tensor z = torch.zeros(new long[] {1, manifest.latent().channels(), side, side},
                context.options(ScalarType.Float));
        try {
            decode(z);
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
