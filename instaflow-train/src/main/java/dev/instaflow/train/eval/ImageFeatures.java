package dev.instaflow.train.eval;

import dev.instaflow.train.data.Colour;
import dev.instaflow.train.data.RgbImage;

/**
 * The features the project's Fréchet distance compares (defined here, not borrowed from an ImageNet network that
 * knows nothing of these images): per image, the 8 x 8 average-pooled RGB values in [0, 1] (192 numbers: where
 * which colour is, at the scale of the shapes) and the fraction of pixels nearest to each of the 6 palette colours
 * (6 numbers: how much of each colour, including off-palette blur, which lands on some nearest colour). 198 in all.
 */
public final class ImageFeatures {
    /** Pooled grid side. */
    public static final int GRID = 8;
    public static final int SIZE = GRID * GRID * 3 + Colour.values().length;

    private ImageFeatures() {
    }

    public static double[] of(RgbImage image) {
        double[] f = new double[SIZE];
        int w = image.width();
        int h = image.height();
        int[] cellCount = new int[GRID * GRID];
        int[] palette = new int[Colour.values().length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int cell = (y * GRID / h) * GRID + (x * GRID / w);
                cellCount[cell]++;
                int r = image.red(x, y);
                int g = image.green(x, y);
                int b = image.blue(x, y);
                f[cell * 3] += r / 255.0;
                f[cell * 3 + 1] += g / 255.0;
                f[cell * 3 + 2] += b / 255.0;
                palette[Colour.nearest(r, g, b).ordinal()]++;
            }
        }
        for (int cell = 0; cell < GRID * GRID; cell++) {
            for (int c = 0; c < 3; c++) {
                f[cell * 3 + c] /= Math.max(1, cellCount[cell]);
            }
        }
        for (int i = 0; i < palette.length; i++) {
            f[GRID * GRID * 3 + i] = palette[i] / (double) (w * h);
        }
        return f;
    }
}
