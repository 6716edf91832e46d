package dev.instaflow.engine.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * The velocity a sampler integrates: {@code V(x, t)}, pointing from noise to data, for a float32 latent
 * {@code x [B,C,h,w]} and the denoiser timestep t of a {@link TimeGrid} point. Implementations own the time
 * mapping's consumer side and guidance; samplers only do the ODE arithmetic.
 */
public interface VelocityField {
    /** The (guided) velocity at {@code x}, float32, shaped like {@code x}. */
    Tensor velocity(Tensor x, float timestep);

    /** Network evaluations made so far. */
    int evaluations();
}
