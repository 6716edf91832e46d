package dev.instaflow.engine.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * An ODE sampler for a rectified flow: integrates {@code dx/ds = V(x, s)} from noise (s = 0) to data (s = 1).
 * One implementation per file; see {@code docs/samplers.md}. Samplers hold no state between calls.
 */
public interface FlowSampler {
    /**
     * @param noise the latents at s = 0, float32
     * @return the latents at s = 1 and what it cost
     */
    Result sample(Tensor noise, SamplingContext context);

    /**
     * @param latents            float32, shaped like the noise
     * @param refinerEvaluations calls of the velocity refiner (network evaluations are counted by the field)
     */
    record Result(Tensor latents, int refinerEvaluations) {
    }
}
