package dev.instaflow.train.data;

import java.util.Locale;

/**
 * The three shapes of the dataset. Each is drawn inside a square box of side {@code size} centred on
 * {@code (cx, cy)}: a disc of diameter {@code size}, an axis-aligned square of side {@code size}, and an upright
 * isosceles triangle whose base is the bottom edge of the box and whose apex is the middle of its top edge.
 */
public enum Shape {
    CIRCLE,
    SQUARE,
    TRIANGLE;

    /** The caption word, e.g. {@code circle}. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Whether the pixel whose centre is {@code (px + 0.5, py + 0.5)} lies inside this shape.
     *
     * @param cx   box centre, x (pixels, continuous)
     * @param cy   box centre, y
     * @param size box side
     */
    public boolean covers(double cx, double cy, double size, int px, int py) {
        double x = px + 0.5 - cx;
        double y = py + 0.5 - cy;
        double half = size / 2;
        switch (this) {
            case CIRCLE:
                return x * x + y * y <= half * half;
            case SQUARE:
                return Math.abs(x) <= half && Math.abs(y) <= half;
            case TRIANGLE:
                // y runs from -half (apex) to +half (base); the half-width grows linearly from 0 to half.
                return y >= -half && y <= half && Math.abs(x) <= (y + half) / 2;
            default:
                throw new IllegalStateException(name());
        }
    }

    /** The shape named {@code word}. */
    public static Shape fromWord(String word) {
        for (Shape s : values()) {
            if (s.word().equals(word)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown shape \"" + word + "\"; the shapes are circle, square and"
                + " triangle");
    }
}
