package dev.instaflow.engine.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Gives a bundle of the tiny model a stored self-test made from a reference run (its noise and its image). */
public final class SelfTestBundles {
    private SelfTestBundles() {
    }

    /**
     * Writes {@code selftest/} into {@code bundle} from the reference case {@code rf2_n4_cfg1.5} (4 Euler steps,
     * guidance 1.5, 32x32), with a tolerance of one level and 40 dB.
     */
    public static Path addSelfTest(Path bundle) throws IOException {
        Path ref = SharedFixtures.referenceCase("rf2_n4_cfg1.5");
        Path st = Files.createDirectories(bundle.resolve("selftest"));
        Files.copy(ref.resolve("initial_noise.bin"), st.resolve("noise.bin"));
        Files.copy(ref.resolve("image_uint8.bin"), st.resolve("expected_uint8.bin"));
        Files.writeString(st.resolve("selftest.json"), "{\"format\": \"instaflow-selftest\", \"version\": 1,"
                + " \"prompt\": \"a photo of a cat\", \"negative_prompt\": \"\", \"sampler\": \"euler\", \"steps\": 4,"
                + " \"guidance\": 1.5, \"width\": 32, \"height\": 32, \"noise\": \"noise.bin\","
                + " \"noise_shape\": [1, 4, 16, 16], \"expected_image\": \"expected_uint8.bin\","
                + " \"tolerance\": {\"max_abs_uint8\": 1, \"min_psnr_db\": 40},"
                + " \"reference\": {\"pipeline\": \"tiny-sd15 rf2_n4_cfg1.5\"}}");
        return bundle;
    }
}
