package dev.instaflow.train.data;

import java.util.List;

/**
 * Which captions training sees. Twelve colour/shape combinations are held out of every training stage (1-RF data,
 * reflow pairs, distillation pairs) and used to measure generalisation to new combinations of known words. They
 * are chosen so that each colour is held out twice as foreground and twice as background, each shape four times,
 * and every held-out (colour, shape) pair and every held-out background still appear in training with other
 * partners. The list is in {@code docs/reflow.md}.
 */
public final class CaptionSplit {
    private static final List<Caption> HELD_OUT = List.of(
            Caption.parse("a red circle on a blue background"),
            Caption.parse("a green square on a yellow background"),
            Caption.parse("a blue triangle on a white background"),
            Caption.parse("a yellow circle on a black background"),
            Caption.parse("a white square on a red background"),
            Caption.parse("a black triangle on a green background"),
            Caption.parse("a green circle on a white background"),
            Caption.parse("a blue square on a black background"),
            Caption.parse("a yellow triangle on a red background"),
            Caption.parse("a white circle on a green background"),
            Caption.parse("a black square on a blue background"),
            Caption.parse("a red triangle on a yellow background"));

    private static final List<Caption> TRAINING = Caption.all().stream().filter(c -> !HELD_OUT.contains(c)).toList();

    private CaptionSplit() {
    }

    /** The 12 combinations no training stage sees. */
    public static List<Caption> heldOut() {
        return HELD_OUT;
    }

    /** The 78 combinations training draws from. */
    public static List<Caption> training() {
        return TRAINING;
    }

    public static boolean isHeldOut(Caption caption) {
        return HELD_OUT.contains(caption);
    }
}
