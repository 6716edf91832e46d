package dev.instaflow.train.data;

import java.util.Locale;

/**
 * The six colours of the shapes dataset, each with the word captions use and the RGB value images are drawn in.
 * The values are far apart in RGB (the closest pair, white and yellow, differ by about 200 in blue) so that
 * {@link CaptionReader} can name every pixel by its nearest palette colour.
 */
public enum Colour {
    RED(220, 40, 40),
    GREEN(40, 170, 60),
    BLUE(40, 80, 220),
    YELLOW(240, 220, 50),
    WHITE(245, 245, 245),
    BLACK(20, 20, 20);

    private final int red;
    private final int green;
    private final int blue;

    Colour(int red, int green, int blue) {
        this.red = red;
        this.green = green;
        this.blue = blue;
    }

    /** The caption word, e.g. {@code red}. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    public int red() {
        return red;
    }

    public int green() {
        return green;
    }

    public int blue() {
        return blue;
    }

    /** The palette colour nearest to an RGB value (squared Euclidean distance). */
    public static Colour nearest(int r, int g, int b) {
        Colour best = RED;
        int bestDistance = Integer.MAX_VALUE;
        for (Colour c : values()) {
            int dr = r - c.red;
            int dg = g - c.green;
            int db = b - c.blue;
            int d = dr * dr + dg * dg + db * db;
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return best;
    }

    /** The colour named {@code word}. */
    public static Colour fromWord(String word) {
        for (Colour c : values()) {
            if (c.word().equals(word)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown colour \"" + word + "\"; the colours are red, green, blue,"
                + " yellow, white and black");
    }
}
