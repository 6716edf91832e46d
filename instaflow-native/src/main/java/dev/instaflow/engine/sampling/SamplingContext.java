package dev.instaflow.engine.sampling;

import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.PipelineTrace;

import java.util.Optional;

/**
 * What a {@link FlowSampler} works with for one generation.
 *
 * @param field     the (guided) velocity field
 * @param refiner   the bundle's velocity refiner, if it has one
 * @param steps     grid steps N
 * @param timeScale the manifest's {@code prediction.time_scale} (denoiser timestep at s = 0)
 * @param device    for the small tensors samplers make (times)
 * @param listener  told after each step
 * @param trace     intermediate-tensor tap
 * @param strength  s in (0, 1]: the steps cover [s * timeScale, 0] (1: the whole path, text-to-image)
 * @param constraint applied to the latents after every step (inpainting's mask blend)
 */
public record SamplingContext(VelocityField field, Optional<VelocityRefiner> refiner, int steps, double timeScale,
                              DeviceContext device, StepListener listener, PipelineTrace trace, double strength,
                              LatentConstraint constraint) {
    /** The whole path from pure noise, no constraint: text-to-image. */
    public SamplingContext(VelocityField field, Optional<VelocityRefiner> refiner, int steps, double timeScale,
                           DeviceContext device, StepListener listener, PipelineTrace trace) {
        this(field, refiner, steps, timeScale, device, listener, trace, 1.0, LatentConstraint.NONE);
    }

    public SamplingContext {
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
        java.util.Objects.requireNonNull(constraint, "constraint");
    }
}
