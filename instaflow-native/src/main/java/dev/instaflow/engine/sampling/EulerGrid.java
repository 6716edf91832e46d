package dev.instaflow.engine.sampling;

/**
 * InstaFlow's time grid ({@code pipeline_rf.py}): the denoiser timestep at step i is
 * {@code (1 - i/N) * timeScale} computed in float64 and fed as float32 (1000, 750, 500, 250 for N = 4; 666.6667
 * for N = 3, never an integer cast), and every step has {@code dt = 1/N} as a float64 scalar.
 */
public final class EulerGrid implements TimeGrid {
    private final int steps;
    private final double timeScale;

    public EulerGrid(int steps, double timeScale) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        this.steps = steps;
        this.timeScale = timeScale;
    }

    @Override
    public int steps() {
        return steps;
    }

    @Override
    public float time(int i) {
        return (float) ((double) i / steps);
    }

    @Override
    public float timestep(int i) {
        return (float) ((1.0 - (double) i / steps) * timeScale);
    }

    /** The step size, a float64 as in the reference (the tensor product rounds it to float32). */
    public double dt() {
        return 1.0 / steps;
    }
}
