package dev.instaflow.engine.runtime;

import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;

/** Shape checks on part outputs, so a part that returns the wrong rank or size fails with a message, not later. */
public final class Shapes {
    private Shapes() {
    }

    /** Null when {@code t} has {@code expected} shape (-1 matches any size), else a description of the mismatch. */
    public static String mismatch(Tensor t, long... expected) {
        long[] actual = Tensors.shape(t);
        if (actual.length != expected.length) {
            return "rank " + actual.length + " " + Arrays.toString(actual) + " where rank " + expected.length + " "
                    + describe(expected) + " was expected";
        }
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] >= 0 && actual[i] != expected[i]) {
                return "shape " + Arrays.toString(actual) + " where " + describe(expected) + " was expected";
            }
        }
        return null;
    }

    private static String describe(long[] shape) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            s.append(i > 0 ? ", " : "").append(shape[i] < 0 ? "*" : Long.toString(shape[i]));
        }
        return s.append(']').toString();
    }
}
