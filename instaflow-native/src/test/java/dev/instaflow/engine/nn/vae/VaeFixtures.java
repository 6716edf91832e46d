package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.snapshot.ComponentWeights;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shared helpers of the VAE tests: loading a fixture's {@code vae/}, recording taps, comparing floats. */
final class VaeFixtures {
    static final double TOLERANCE = 1e-4;

    private VaeFixtures() {
    }

    static StateDict weights(Path vaeDir) {
        return ComponentWeights.load("vae", vaeDir, "diffusion_pytorch_model", Optional.empty(), t -> t);
    }

    /** A tap that copies every activation it is shown (the tensors are freed right after). */
    static final class Recorder implements VaeTap {
        final Map<String, float[]> values = new LinkedHashMap<>();
        final Map<String, long[]> shapes = new LinkedHashMap<>();

        @Override
        public void record(String name, Tensor t) {
            values.put(name, Tensors.toFloats(t));
            shapes.put(name, Tensors.shape(t));
        }
    }

    /** Largest |a - b|; fails on a length mismatch. */
    static double maxAbsDiff(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, "number of values of " + what);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            max = Math.max(max, d);
        }
        return max;
    }

    static void assertShape(long[] expected, long[] actual, String what) {
        assertArrayEquals(expected, actual, "shape of " + what);
    }
}
