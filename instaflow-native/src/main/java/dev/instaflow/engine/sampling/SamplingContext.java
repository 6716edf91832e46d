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
 */
public record SamplingContext(VelocityField field, Optional<VelocityRefiner> refiner, int steps, double timeScale,
                              DeviceContext device, StepListener listener, PipelineTrace trace) {
}
