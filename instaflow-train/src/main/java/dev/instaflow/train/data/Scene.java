package dev.instaflow.train.data;

import java.util.SplittableRandom;

/**
 * One image of the dataset: a shape of one colour on a background of another, at a position and size.
 *
 * @param caption what it shows
 * @param cx      centre of the shape's box, x, in pixels
 * @param cy      centre of the shape's box, y
 * @param size    side of the shape's box in pixels
 */
public record Scene(Caption caption, double cx, double cy, double size) {
    /** Smallest box side, as a fraction of the image side (10 px at 32 px). */
    public static final double MIN_SIZE = 10.0 / 32;
    /** Largest box side, as a fraction of the image side (22 px at 32 px). */
    public static final double MAX_SIZE = 22.0 / 32;
    /** The box keeps this far from the image edges (2 px at 32 px), so the border shows only background. */
    public static final double MARGIN = 2.0 / 32;

    /** A random scene of {@code caption} for an image of {@code side} pixels: uniform size, then uniform position. */
    public static Scene random(Caption caption, int side, SplittableRandom random) {
        double size = side * (MIN_SIZE + (MAX_SIZE - MIN_SIZE) * random.nextDouble());
        double lo = side * MARGIN + size / 2;
        double hi = side - side * MARGIN - size / 2;
        return new Scene(caption, lo + (hi - lo) * random.nextDouble(), lo + (hi - lo) * random.nextDouble(), size);
    }

    /** The image as RGB bytes, row-major, {@code side x side x 3}; hard edges, no anti-aliasing. */
    public byte[] render(int side) {
        byte[] rgb = new byte[side * side * 3];
        Colour fg = caption.foreground();
        Colour bg = caption.background();
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                Colour c = caption.shape().covers(cx, cy, size, x, y) ? fg : bg;
                int i = (y * side + x) * 3;
                rgb[i] = (byte) c.red();
                rgb[i + 1] = (byte) c.green();
                rgb[i + 2] = (byte) c.blue();
            }
        }
        return rgb;
    }
}
