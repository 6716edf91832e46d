package dev.instaflow.engine.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * Applied by every sampler to the latents after each step (inpainting's mask blend, {@link MaskBlend}); the
 * identity for text-to-image and image-to-image without a mask.
 */
@FunctionalInterface
public interface LatentConstraint {
    LatentConstraint NONE = (latents, noiseLevel) -> latents;

    /**
     * @param latents    the latents after a step, float32 {@code [B,C,h,w]}
     * @param noiseLevel t / T of the time the step landed at, float32 (0 after the last step)
     * @return the constrained latents (may be {@code latents} itself)
     */
    Tensor afterStep(Tensor latents, float noiseLevel);
}
