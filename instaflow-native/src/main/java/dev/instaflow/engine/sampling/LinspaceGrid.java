package dev.instaflow.engine.sampling;

/**
 * FlowTurbo's time grid: {@code s = torch.linspace(0, 1, N+1)} in float32, reproduced bit for bit, with
 * {@code delta = s_1 - s_0} for every step and the denoiser timestep {@code (1 - s) * timeScale} as two float32
 * operations.
 *
 * <p>torch's CPU linspace kernel computes {@code step = 1f / N} and fills the first half from the start
 * ({@code s_i = step * i}) and the second half from the end ({@code s_i = 1 - step * (N - i)}); so for N = 3,
 * {@code s_2 = 0.6666666} (0x3f2aaaaa), not {@code float(2/3)}. The kernel is compiled into torch's AVX2 and AVX-512
 * dispatch units, where the compiler fuses {@code 1 - step * k} into one fused multiply-add with a single rounding.
 * This class does the same with {@link Math#fma}, so it matches LibTorch's own {@code linspace} on every N
 * (checked for N = 1..64 in the tests), not only where {@code step * k} happens to be exact (N = 3, 4 of the
 * reference cases): for N = 9, {@code s_6 = 0.6666667}, where two roundings would give 0.6666666.
 *
 * <p>With a strength σ &lt; 1 (image-to-image) the grid is {@code linspace(s0, 1, N+1)} with
 * {@code s0 = 1f - float(σ)}, by the same kernel ({@code step = (1 - s0) / N}, first half {@code fma(step, i, s0)},
 * second half {@code fma(-step, N - i, 1)}); for σ = 1, s0 = 0 and every value is the text-to-image grid's.
 */
public final class LinspaceGrid implements TimeGrid {
    private final int steps;
    private final float timeScale;
    private final float[] s;

    public LinspaceGrid(int steps, double timeScale) {
        this(steps, timeScale, 1.0);
    }

    public LinspaceGrid(int steps, double timeScale, double strength) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
        this.steps = steps;
        this.timeScale = (float) timeScale;
        this.s = linspace(1f - (float) strength, steps + 1);
    }

    /** torch.linspace(0, 1, points, dtype=float32) on the CPU. */
    static float[] linspace01(int points) {
        return linspace(0f, points);
    }

    /** torch.linspace(start, 1, points, dtype=float32) on the CPU. */
    static float[] linspace(float start, int points) {
        float[] out = new float[points];
        if (points == 1) {
            out[0] = start;
            return out;
        }
        float step = (1f - start) / (float) (points - 1);
        int halfway = points / 2;
        for (int i = 0; i < points; i++) {
            out[i] = i < halfway ? Math.fma(step, (float) i, start)
                    : Math.fma(-step, (float) (points - i - 1), 1f);
        }
        return out;
    }

    @Override
    public int steps() {
        return steps;
    }

    @Override
    public float time(int i) {
        return s[i];
    }

    @Override
    public float timestep(int i) {
        float oneMinus = 1f - s[i];
        return oneMinus * timeScale;
    }

    /** {@code 1f - s_i}. */
    @Override
    public float noiseLevel(int i) {
        return 1f - s[i];
    }

    /** {@code s_1 - s_0}, the same for every step. */
    public float delta() {
        return s[1] - s[0];
    }

    /** {@code delta / 2}. */
    public float halfDelta() {
        return delta() / 2f;
    }

    /** The whole grid s_0..s_N. */
    public float[] points() {
        return s.clone();
    }
}
