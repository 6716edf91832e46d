package dev.instaflow.engine.sampling;

import dev.instaflow.InferenceException;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.Shapes;
import dev.instaflow.engine.network.DenoiserNetwork;
import dev.instaflow.engine.runtime.TorchScriptPart;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The denoiser stage (a UNet, TorchScript or built in Java): {@code (sample, timestep float32 [B], text [B,L,D]) -> [B,C,h,w]}. What the output
 * means (velocity or noise) is the manifest's {@code prediction.type}; this class only runs the network, casting
 * the float32 sample to the model's dtype and the output back to float32.
 */
public final class Denoiser implements AutoCloseable {
    public static final String SIGNATURE = "(sample: [B,C,h,w], timestep: float32 [B], encoder_hidden_states: [B,L,D])"
            + " -> [B,C,h,w]";

    private final DenoiserNetwork part;
    private final DeviceContext context;

    public Denoiser(DenoiserNetwork part, DeviceContext context) {
        this.part = part;
        this.context = context;
    }

    public static Denoiser load(Bundle bundle, DeviceContext context) {
        return new Denoiser(TorchScriptPart.load("denoiser", bundle.denoiser(), "parts.denoiser", 3, SIGNATURE,
                context), context);
    }

    /**
     * One network evaluation; the output has the sample's shape and is float32. With a trace enabled, the call's
     * inputs and output are recorded as {@code unet_in_sample_call<n>}, {@code unet_in_timestep_call<n>},
     * {@code unet_in_encoder_hidden_states_call<n>} and {@code unet_out_call<n>}.
     */
    public Tensor predict(Tensor sample, Tensor timestep, Tensor text, PipelineTrace trace, int call) {
        if (trace.enabled()) {
            trace.record("unet_in_sample_call" + call, sample);
            trace.record("unet_in_timestep_call" + call, timestep);
            trace.record("unet_in_encoder_hidden_states_call" + call, text);
        }
        Tensor out = part.predict(context.toModelDtype(sample), timestep, text);
        long[] shape = sample.sizes().vec().get();
        String problem = Shapes.mismatch(out, shape);
        if (problem != null) {
            throw new InferenceException("the denoiser part (" + part.source().getFileName() + ") returned " + problem
                    + " (the sample's shape)", null);
        }
        Tensor result = context.toFloat32(out);
        if (trace.enabled()) {
            trace.record("unet_out_call" + call, result);
        }
        return result;
    }

    /** Runs the part once on the smallest latent the manifest allows and checks the output shape. */
    public void validate(BundleManifest manifest, double timestep) {
        int side = manifest.image().sizeMultiple() / manifest.latent().vaeScaleFactor();
        Tensor sample = torch.zeros(new long[] {1, manifest.latent().channels(), side, side},
                context.options(ScalarType.Float));
        Tensor t = torch.full(new long[] {1}, new org.bytedeco.pytorch.Scalar(timestep),
                context.options(ScalarType.Float));
        Tensor text = torch.zeros(new long[] {1, manifest.text().maxLength(), manifest.text().hiddenSize()},
                context.options(context.modelDtype()));
        try {
            predict(sample, t, text, PipelineTrace.NONE, 0);
        } catch (InferenceException e) {
            throw new InvalidModelException(part.source(), part.field(), "failed its load-time check on a "
                    + side + "x" + side + " latent: " + e.getMessage() + "; expected forward" + SIGNATURE
                    + " with C = latent.channels = " + manifest.latent().channels() + ", L = " + manifest.text().maxLength()
                    + ", D = " + manifest.text().hiddenSize() + manifest.loadHint(context.isCuda(), context.precision()), e);
        }
    }

    @Override
    public void close() {
        part.close();
    }
}
