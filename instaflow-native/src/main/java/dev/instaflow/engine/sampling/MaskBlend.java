package dev.instaflow.engine.sampling;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Inpainting on a rectified flow: after every step that lands at time t,
 * {@code z <- m z + (1 - m) ((t/T) noise + (1 - t/T) x_init)} with the latent mask m in {0, 1} (1 = repaint): the
 * kept region is put back on the straight path from the noise to the clean latent. In float32 with r = t/T:
 * {@code r * noise}, {@code (1f - r) * x_init}, their sum; since m is 0 or 1 the blend is an exact selection
 * ({@code torch.where}). At t = 0 the kept region is x_init exactly.
 */
public final class MaskBlend implements LatentConstraint {
    private final Tensor repaint;
    private final Tensor noise;
    private final Tensor clean;

    /**
     * @param repaint bool {@code [1 or B,1,h,w]}, true where the mask repaints
     * @param noise   the generation's noise {@code [B,C,h,w]}
     * @param clean   x_init {@code [B,C,h,w]}
     */
    public MaskBlend(Tensor repaint, Tensor noise, Tensor clean) {
        this.repaint = repaint;
        this.noise = noise;
        this.clean = clean;
    }

    /** The point of the straight path at noise level r: {@code r * noise + (1f - r) * x_init} in float32. */
    public static Tensor pathPoint(Tensor noise, Tensor clean, float r) {
        float q = 1f - r;
        return noise.mul(new Scalar((double) r)).add(clean.mul(new Scalar((double) q)));
    }

    @Override
    public Tensor afterStep(Tensor latents, float noiseLevel) {
        return torch.where(repaint, latents, pathPoint(noise, clean, noiseLevel));
    }
}
