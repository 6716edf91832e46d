package dev.instaflow.engine.sampling;

import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.text.Conditioning;
import dev.instaflow.engine.runtime.PipelineTrace;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A rectified-flow denoiser read as a velocity field, with classifier-free guidance as InstaFlow's pipeline does
 * it: when guided, one call on the doubled batch {@code [x; x]} with text {@code [negative; positive]} and the
 * timestep repeated 2B times, then {@code v = u + w (c - u)} on all channels (u = first half). The arithmetic is
 * the reference's, op for op: a subtraction, a product with float32(w), an addition.
 *
 * <p>One instance per generation (it counts evaluations).
 */
public final class GuidedVelocityField implements VelocityField {
    private final Denoiser denoiser;
    private final Conditioning condition;
    private final DeviceContext context;
    private final PipelineTrace trace;
    private int calls;

    public GuidedVelocityField(Denoiser denoiser, Conditioning condition, DeviceContext context, PipelineTrace trace) {
        this.denoiser = denoiser;
        this.condition = condition;
        this.context = context;
        this.trace = trace;
    }

    @Override
    public Tensor velocity(Tensor x, float timestep) {
        int call = calls++;
        Tensor sample = condition.guided() ? torch.cat(new TensorVector(x, x)) : x;
        Tensor t = torch.full(new long[] {sample.size(0)}, new Scalar((double) timestep),
                context.options(ScalarType.Float));
        Tensor out = denoiser.predict(sample, t, condition.text(), trace, call);
        if (!condition.guided()) {
            return out;
        }
        TensorVector halves = out.chunk(2, 0);
        Tensor unconditional = halves.get(0);
        Tensor conditional = halves.get(1);
        return unconditional.add(conditional.sub(unconditional).mul(new Scalar(condition.guidance())));
    }

    @Override
    public int evaluations() {
        return calls;
    }
}
