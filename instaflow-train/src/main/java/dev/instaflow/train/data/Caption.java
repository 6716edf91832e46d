package dev.instaflow.train.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What an image of the dataset shows, and its caption in the one form the dataset uses:
 * {@code "a red circle on a blue background"}. The foreground and background colours always differ.
 *
 * @param foreground the shape's colour
 * @param shape      the shape
 * @param background the background's colour
 */
public record Caption(Colour foreground, Shape shape, Colour background) {
    public Caption {
        if (foreground == background) {
            throw new IllegalArgumentException("a " + foreground.word() + " " + shape.word() + " on a "
                    + background.word() + " background would be invisible: the colours must differ");
        }
    }

    /** The caption text, e.g. {@code a red circle on a blue background}. */
    public String text() {
        return "a " + foreground.word() + " " + shape.word() + " on a " + background.word() + " background";
    }

    /** The words every caption is made of (the tokenizer of a trained model covers exactly these). */
    public static List<String> vocabulary() {
        List<String> words = new ArrayList<>(List.of("a", "on", "background"));
        for (Colour c : Colour.values()) {
            words.add(c.word());
        }
        for (Shape s : Shape.values()) {
            words.add(s.word());
        }
        return words;
    }

    /** Parses a caption in the dataset's form (case and surrounding spaces do not matter). */
    public static Caption parse(String text) {
        String[] w = text.trim().toLowerCase(Locale.ROOT).split("\\s+");
        if (w.length != 7 || !w[0].equals("a") || !w[3].equals("on") || !w[4].equals("a")
                || !w[6].equals("background")) {
            throw new IllegalArgumentException("\"" + text + "\" is not a caption of the form"
                    + " \"a <colour> <shape> on a <colour> background\"");
        }
        return new Caption(Colour.fromWord(w[1]), Shape.fromWord(w[2]), Colour.fromWord(w[5]));
    }

    /** All 90 captions (6 foreground colours x 3 shapes x 5 other background colours), in a fixed order. */
    public static List<Caption> all() {
        List<Caption> all = new ArrayList<>();
        for (Colour fg : Colour.values()) {
            for (Shape shape : Shape.values()) {
                for (Colour bg : Colour.values()) {
                    if (fg != bg) {
                        all.add(new Caption(fg, shape, bg));
                    }
                }
            }
        }
        return List.copyOf(all);
    }

    @Override
    public String toString() {
        return text();
    }
}
