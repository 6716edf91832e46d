package dev.instaflow.engine.testing;

import dev.instaflow.Generation;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Compares a traced generation with a reference case, tensor by tensor: every tensor the case saved must have been
 * recorded under the same name (the case's {@code *_step0} UNet inputs are the trace's {@code *_call0}), with the
 * same shape, int64 ids equal, uint8 pixels within ±1, and float values within 1e-4 absolute. Tensors listed as
 * large (SwiftBrush's x0) get the tolerance scaled by their magnitude.
 */
public final class ParityAssertions {
    public static final double FLOAT_TOLERANCE = 1e-4;

    private ParityAssertions() {
    }

    /** @return the largest absolute difference per tensor, for reports */
    public static Map<String, Double> assertMatches(ReferenceCase reference, RecordingTrace trace,
                                                    Set<String> largeTensors) {
        Map<String, Double> errors = new LinkedHashMap<>();
        for (String name : reference.tensorNames()) {
            String traced = name.replace("_step0", "_call0");
            if (name.startsWith("velocity_step") || name.startsWith("latents_after_step")) {
                traced = name; // per-step names are the same in the trace
            }
            if (!trace.has(traced)) {
                traced = name;
            }
            RecordingTrace.Recorded actual = trace.get(traced);
            long[] expectedShape = reference.shape(name);
            assertArrayEquals(expectedShape, actual.shape(), "shape of " + name);
            String dtype = reference.dtype(name);
            double max = 0;
            switch (dtype) {
                case "<i8": {
                    long[] expected = reference.longs(name);
                    for (int i = 0; i < expected.length; i++) {
                        if (expected[i] != (long) actual.values()[i]) {
                            fail(name + "[" + i + "] = " + (long) actual.values()[i] + ", expected " + expected[i]);
                        }
                    }
                    break;
                }
                case "|u1": {
                    byte[] expected = reference.bytes(name);
                    for (int i = 0; i < expected.length; i++) {
                        max = Math.max(max, Math.abs((expected[i] & 0xff) - actual.values()[i]));
                    }
                    assertTrue(max <= 1, name + " differs by " + max + " levels (allowed: 1)");
                    break;
                }
                case "<f4": {
                    float[] expected = reference.floats(name);
                    double magnitude = 0;
                    for (int i = 0; i < expected.length; i++) {
                        max = Math.max(max, Math.abs(expected[i] - actual.values()[i]));
                        magnitude = Math.max(magnitude, Math.abs(expected[i]));
                    }
                    double tolerance = largeTensors.contains(name)
                            ? FLOAT_TOLERANCE * Math.max(1, magnitude / 20) : FLOAT_TOLERANCE;
                    assertTrue(max <= tolerance, name + ": max |diff| " + max + " exceeds " + tolerance);
                    break;
                }
                default:
                    fail("unknown dtype " + dtype + " of " + name);
            }
            errors.put(name, max);
        }
        return errors;
    }

    /** The images' RGB bytes equal the reference's {@code image_uint8} within ±1. */
    public static int assertImagesMatch(ReferenceCase reference, Generation generation) {
        byte[] expected = reference.bytes("image_uint8");
        int max = 0;
        int offset = 0;
        for (BufferedImage image : generation.images()) {
            byte[] bgr = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
            for (int p = 0; p < bgr.length; p += 3) {
                for (int c = 0; c < 3; c++) {
                    int e = expected[offset + p + c] & 0xff;
                    int a = bgr[p + 2 - c] & 0xff;
                    max = Math.max(max, Math.abs(e - a));
                }
            }
            offset += bgr.length;
        }
        assertTrue(offset == expected.length, "image bytes " + offset + " vs reference " + expected.length);
        assertTrue(max <= 1, "image pixels differ from the reference by " + max + " levels");
        return max;
    }

    public static String describe(Map<String, Double> errors) {
        StringBuilder s = new StringBuilder();
        errors.forEach((k, v) -> s.append(String.format("  %-40s %.3g%n", k, v)));
        return s.toString();
    }

    static String shape(long[] s) {
        return Arrays.toString(s);
    }
}
