package dev.instaflow.engine.sampling;

/** Test access to {@link LinspaceGrid}'s points. */
public final class LinspaceGridProbe {
    private LinspaceGridProbe() {
    }

    public static float[] points(int steps) {
        return new LinspaceGrid(steps, 1000).points();
    }

    public static float[] points(int steps, double strength) {
        return new LinspaceGrid(steps, 1000, strength).points();
    }
}
