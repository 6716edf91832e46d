package dev.instaflow.engine.sampling;

import dev.instaflow.engine.bundle.Prediction;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.text.Conditioning;
import dev.instaflow.engine.runtime.PipelineTrace;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One-step generation from a noise-predicting (epsilon) student, as SwiftBrush's {@code infer.py}: the denoiser
 * sees pure noise at the manifest's timestep (999), and the clean latent comes in closed form,
 * {@code x0 = (z - sqrt(1 - a) eps) / sqrt(a)}, with {@code a} the manifest's {@code alpha_bar} (0.0047 for
 * SwiftBrush, which hard-codes that rounding rather than the schedule's 0.0046601).
 *
 * <p>In float32 exactly as the reference: {@code c1 = sqrt(1 - float32(a))} and {@code c0 = sqrt(float32(a))}
 * rounded to float32, then three operations: {@code c1 * eps}, {@code z - that}, and a true division by c0 (a
 * multiplication by {@code 1/c0} moves x0 by up to 4e-6). The division amplifies errors about 15 times, which is
 * why this step never runs in half precision.
 */
public final class EpsilonOneStep {
    private final float timestep;
    private final Scalar c0;
    private final Scalar c1;

    public EpsilonOneStep(Prediction.Epsilon prediction) {
        float a = (float) prediction.alphaBar();
        this.timestep = (float) prediction.timestep();
        this.c1 = new Scalar((double) (float) Math.sqrt((double) (1f - a)));
        this.c0 = new Scalar((double) (float) Math.sqrt((double) a));
    }

    /** The predicted clean latent for noise {@code z}, float32. */
    public Tensor x0(Tensor z, Denoiser denoiser, Conditioning condition, DeviceContext context, PipelineTrace trace) {
        Tensor t = torch.full(new long[] {z.size(0)}, new Scalar((double) timestep), context.options(ScalarType.Float));
        Tensor eps = denoiser.predict(z, t, condition.text(), trace, 0);
        if (trace.enabled()) {
            trace.record("x0_coefficients", dev.instaflow.engine.runtime.Tensors.fromFloats(
                    new float[] {(float) c1.toDouble(), (float) c0.toDouble()}, 2));
        }
        return z.sub(eps.mul(c1)).div(c0);
    }
}
