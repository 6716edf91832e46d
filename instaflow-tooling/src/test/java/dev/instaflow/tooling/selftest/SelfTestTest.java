package dev.instaflow.tooling.selftest;

import dev.instaflow.Device;
import dev.instaflow.InvalidModelException;
import dev.instaflow.LoadOptions;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.SelfTestBundles;
import dev.instaflow.engine.testing.SharedFixtures;
import dev.instaflow.engine.testing.TinyBundle;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.parameter_list;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A stored self-test built from a reference case: passes on the bundle, fails on tampered weights. */
class SelfTestTest {
    @TempDir
    Path temp;

    static final LoadOptions CPU = LoadOptions.builder().device(Device.cpu()).build();

    static Path bundleWithSelfTest(Path dir) throws IOException {
        return SelfTestBundles.addSelfTest(TinyBundle.create(dir));
    }

    @Test
    void passesOnTheBundleItWasMadeFor() throws IOException {
        SelfTestReport report = SelfTest.run(bundleWithSelfTest(temp.resolve("ok")), CPU);
        assertTrue(report.passed(), report.toString());
        assertTrue(report.maxAbsUint8() <= 1, report.toString());
    }

    @Test
    void failsOnTamperedWeights() throws IOException {
        Path bundle = bundleWithSelfTest(temp.resolve("tampered"));
        TorchRuntime.ensureLoaded();
        JitModule unet = torch.load(bundle.resolve("unet.pt").toString());
        try (NoGradGuard g = new NoGradGuard()) {
            parameter_list params = unet.parameters(true);
            params.begin().access().mul_(new Scalar(1.05)); // the first weight, 5 % off
        }
        unet.save(bundle.resolve("unet.pt").toString());

        SelfTestReport report = SelfTest.run(bundle, CPU);
        assertFalse(report.passed(), report.toString());
        assertTrue(report.toString().startsWith("FAIL"), report.toString());
    }

    @Test
    void aRelativeOrDottedBundlePathWorks() throws IOException {
        Path bundle = bundleWithSelfTest(temp.resolve("rel"));
        Path cwd = Path.of("").toAbsolutePath();
        Path relative = cwd.relativize(bundle);
        assertTrue(SelfTest.run(relative, CPU).passed());
        assertTrue(SelfTest.run(bundle.resolve("../rel/./"), CPU).passed());
    }

    @Test
    void malformedValuesAreNamedWithTheirField() throws IOException {
        Path bundle = bundleWithSelfTest(temp.resolve("bad"));
        Path spec = bundle.resolve("selftest/selftest.json");
        String good = Files.readString(spec);
        String[][] cases = {
            {"\"tolerance\": {\"max_abs_uint8\": 1, \"min_psnr_db\": 40}", "\"tolerance\": 3", "tolerance"},
            {"\"sampler\": \"euler\"", "\"sampler\": \"ddim\"", "sampler"},
            {"\"version\": 1", "\"version\": 2", "version"},
            {"\"noise_shape\": [1, 4, 16, 16]", "\"noise_shape\": [1, 4, \"16\", 16]", "noise_shape.2"},
            {"\"negative_prompt\": \"\"", "\"negative_prompt\": 0", "negative_prompt"},
        };
        for (String[] c : cases) {
            Files.writeString(spec, good.replace(c[0], c[1]));
            InvalidModelException e = assertThrows(InvalidModelException.class, () -> SelfTest.run(bundle, CPU),
                    c[1]);
            assertEquals(c[2], e.field().orElseThrow(), e.getMessage());
            assertEquals(spec.toRealPath(), e.file());
        }
    }

    @Test
    void aBundleWithoutSelfTestSaysSo() {
        Path bundle = TinyBundle.create(temp.resolve("none"));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> SelfTest.run(bundle, CPU));
        assertTrue(e.getMessage().contains("no self-test"), e.getMessage());
    }

    @Test
    void aTruncatedNoiseFileIsNamed() throws IOException {
        Path bundle = bundleWithSelfTest(temp.resolve("short"));
        Files.write(bundle.resolve("selftest/noise.bin"), new byte[12]);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> SelfTest.run(bundle, CPU));
        assertTrue(e.getMessage().contains("noise.bin") && e.getMessage().contains("4096"), e.getMessage());
        assertEquals(bundle.toRealPath().resolve("selftest/noise.bin"), e.file());
    }
}
