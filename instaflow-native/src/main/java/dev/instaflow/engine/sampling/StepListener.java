package dev.instaflow.engine.sampling;

import dev.instaflow.engine.EntryPoint;
import org.bytedeco.pytorch.Tensor;

/** Told after each sampler step; may throw to stop the sampler (cancellation). */
@FunctionalInterface
@EntryPoint("latents after each step: training's flow")
public interface StepListener {
    StepListener NONE = (step, total, latents) -> { };

    /**
     * @param step    the 0-based index of the step just finished
     * @param total   the number of steps
     * @param latents the latents after the step
     */
    void afterStep(int step, int total, Tensor latents);
}
