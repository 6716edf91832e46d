package dev.instaflow;

import java.util.Locale;

/** Floating-point precision of a model's weights and activations. */
public enum Precision {
    FLOAT32("float32"),
    FLOAT16("float16"),
    BFLOAT16("bfloat16");

    private final String id;

    Precision(String id) {
        this.id = id;
    }

    /** The name used in manifests and on the command line: {@code float32}, {@code float16}, {@code bfloat16}. */
    public String id() {
        return id;
    }

    /** Parses {@code float32|fp32}, {@code float16|fp16|half}, {@code bfloat16|bf16}. */
    public static Precision parse(String text) {
        switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "float32": case "fp32": case "float":
                return FLOAT32;
            case "float16": case "fp16": case "half":
                return FLOAT16;
            case "bfloat16": case "bf16":
                return BFLOAT16;
            default:
                throw new IllegalArgumentException(
                        "precision '" + text + "' is not one of float32, float16, bfloat16");
        }
    }

    @Override
    public String toString() {
        return id;
    }
}
