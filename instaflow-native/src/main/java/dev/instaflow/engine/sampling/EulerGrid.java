package dev.instaflow.engine.sampling;

/**
 * InstaFlow's time grid ({@code pipeline_rf.py}): the denoiser timestep at step i is
 * {@code (1 - i/N) * timeScale} computed in float64 and fed as float32 (1000, 750, 500, 250 for N = 4; 666.6667
 * for N = 3, never an integer cast), and every step has {@code dt = 1/N} as a float64 scalar.
 *
 * <p>With a strength s &lt; 1 (image-to-image) the grid covers [t0, 0] with {@code t0 = s * timeScale}:
 * {@code t_i = (1 - i/N) * t0} and {@code dt = s/N}, both in float64; for s = 1 these are the same operations on
 * the same values as above, so text-to-image is unchanged bit for bit.
 */
public final class EulerGrid implements TimeGrid {
    private final int steps;
    private final double timeScale;
    private final double strength;

    public EulerGrid(int steps, double timeScale) {
        this(steps, timeScale, 1.0);
    }

    public EulerGrid(int steps, double timeScale, double strength) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
        this.steps = steps;
        this.timeScale = timeScale * strength; // t0; exactly timeScale for s = 1
        this.strength = strength;
    }

    @Override
    public int steps() {
        return steps;
    }

    @Override
    public float time(int i) {
        return strength == 1.0 ? (float) ((double) i / steps) : (float) ((1.0 - strength) + strength * i / steps);
    }

    /** t_i / T = {@code (1 - i/N) * s} in float64, fed as float32: the noise level the mask blend uses. */
    @Override
    public float noiseLevel(int i) {
        return (float) ((1.0 - (double) i / steps) * strength);
    }

    @Override
    public float timestep(int i) {
        return (float) ((1.0 - (double) i / steps) * timeScale);
    }

    /** The step size s/N, a float64 as in the reference (the tensor product rounds it to float32). */
    public double dt() {
        return strength / steps;
    }
}
