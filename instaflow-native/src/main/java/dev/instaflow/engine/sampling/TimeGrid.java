package dev.instaflow.engine.sampling;

/**
 * The points a sampler visits in paper time s (0 = noise, 1 = data) and the timestep the denoiser sees at each.
 * Two conventions exist and they differ in the last bits, so each sampler states which one it follows:
 * {@link EulerGrid} (InstaFlow's pipeline) and {@link LinspaceGrid} (FlowTurbo's).
 */
public interface TimeGrid {
    /** The number of steps N; points are numbered 0..N. */
    int steps();

    /** Paper time s_i as float32. */
    float time(int i);

    /** The timestep fed to the denoiser at point i, as float32. */
    float timestep(int i);

    /** t_i / T at point i, as float32: 1 at pure noise, 0 at the image (what the inpainting blend uses). */
    float noiseLevel(int i);
}
