package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UNet built from a fixture's diffusers weights against diffusers 0.21.4's outputs: every forward hook of the
 * first UNet call of each case's {@code debug/} folder, and the step-0 output of every tiny-sd15 case, within 1e-4.
 */
class UNetParityTest {
    private static final double TOLERANCE = 1e-4;

    @BeforeAll
    static void natives() {
        TorchRuntime.ensureLoaded();
    }

    @Test
    void tinySd15DebugHooksOfEveryCase() throws IOException {
        Path fixture = SharedFixtures.tinySd15();
        int cases = 0;
        for (Path folder : caseFolders(fixture)) {
            if (Files.isRegularFile(folder.resolve("debug/manifest.json"))) {
                assertEquals(10, compareDebug(fixture, folder.resolve("debug")), "hooks of " + folder);
                cases++;
            }
        }
        assertEquals(7, cases, "tiny-sd15 cases with debug hooks");
    }

    @Test
    void tinySd21DebugHooksIncludingTheFirstTransformer() {
        Path fixture = SharedFixtures.tinySd21();
        int compared = 0;
        for (String c : List.of("rf_n2_cfg1.5", "swiftbrush_eps_n1")) {
            compared += compareDebug(fixture, SharedFixtures.tinySd21Case(c).resolve("debug"));
        }
        assertEquals(2 * 17, compared, "hooks compared");
    }

    @Test
    void tinySd15StepZeroOutputOfEveryCase() throws IOException {
        Path fixture = SharedFixtures.tinySd15();
        List<Path> cases = caseFolders(fixture);
        int compared = 0;
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             UNetFixtures.Loaded loaded = UNetFixtures.load(fixture.resolve("model/unet"))) {
            for (Path folder : cases) {
                ReferenceCase c = ReferenceCase.at(folder);
                if (!c.has("unet_out_step0")) {
                    continue;
                }
                try (PointerScope perCase = new PointerScope()) {
                    Tensor out = loaded.unet().predict(UNetFixtures.tensor(c, "unet_in_sample_step0"),
                            UNetFixtures.tensor(c, "unet_in_timestep_step0"),
                            UNetFixtures.tensor(c, "unet_in_encoder_hidden_states_step0"));
                    double d = maxAbsDiff(c, "unet_out_step0", Tensors.shape(out), Tensors.toFloats(out));
                    System.out.printf("tiny-sd15 %-26s unet_out_step0 %s max|d| %.3g%n", folder.getFileName(),
                            java.util.Arrays.toString(Tensors.shape(out)), d);
                    assertTrue(d <= TOLERANCE, folder.getFileName() + ": unet_out_step0 differs by " + d);
                    compared++;
                }
            }
        }
        assertEquals(7, compared, "tiny-sd15 cases with a step-0 UNet output");
    }

    private static List<Path> caseFolders(Path fixture) throws IOException {
        try (Stream<Path> s = Files.list(fixture.resolve("ref"))) {
            return s.filter(p -> Files.isRegularFile(p.resolve("manifest.json"))).sorted().toList();
        }
    }

    /** Runs the debug inputs and compares every {@code unet_*} hook the folder holds; returns how many. */
    private static int compareDebug(Path fixture, Path debug) {
        ReferenceCase c = ReferenceCase.at(debug);
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             UNetFixtures.Loaded loaded = UNetFixtures.load(fixture.resolve("model/unet"))) {
            Tensor out = loaded.unet().forward(UNetFixtures.tensor(c, "unet_in_sample"),
                    UNetFixtures.tensor(c, "unet_in_timestep"),
                    UNetFixtures.tensor(c, "unet_in_encoder_hidden_states"), (name, t) -> {
                        values.put("unet_" + name, Tensors.toFloats(t));
                        shapes.put("unet_" + name, Tensors.shape(t));
                    });
            assertArrayEquals(Tensors.toFloats(out), values.get("unet_conv_out"));
        }
        List<String> failures = new ArrayList<>();
        int compared = 0;
        for (String name : c.tensorNames()) {
            if (!name.startsWith("unet_") || name.startsWith("unet_in_")) {
                continue;
            }
            assertTrue(values.containsKey(name), "the UNet reported no " + name + "; it reported " + values.keySet());
            double d = maxAbsDiff(c, name, shapes.get(name), values.get(name));
            System.out.printf("%s %-20s %-40s max|d| %.3g%n", fixture.getFileName(),
                    debug.getParent().getFileName(), name, d);
            if (!(d <= TOLERANCE)) {
                failures.add(name + " (" + d + ")");
            }
            compared++;
        }
        assertEquals(List.of(), failures, "hooks beyond " + TOLERANCE + " in " + debug);
        return compared;
    }

    private static double maxAbsDiff(ReferenceCase c, String name, long[] shape, float[] actual) {
        assertArrayEquals(c.shape(name), shape, "shape of " + name);
        float[] expected = c.floats(name);
        assertEquals(expected.length, actual.length, name);
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
}
