package dev.instaflow.server;

import dev.instaflow.Device;
import dev.instaflow.Generation;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.RuntimeSettings;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shared tiny SD-1.5-shaped model ({@code ../shared/fixtures/tiny-sd15/model}, a diffusers snapshot) on the CPU
 * with the thread count Maven passes. Missing fixtures fail under {@code CI=true} and skip elsewhere.
 */
final class TinyModel {
    private TinyModel() {
    }

    static Path directory() {
        String configured = System.getProperty("instaflow.shared.dir");
        if (configured == null || configured.isBlank()) {
            configured = System.getenv("INSTAFLOW_SHARED_DIR");
        }
        Path root = Path.of(configured == null || configured.isBlank() ? "../shared" : configured)
                .toAbsolutePath().normalize();
        Path model = root.resolve("fixtures/tiny-sd15/model");
        if (!Files.isDirectory(model)) {
            String message = "shared fixtures not found at " + model + " (set -Dinstaflow.shared.dir or"
                    + " INSTAFLOW_SHARED_DIR)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(message + "; CI must have them");
            }
            Assumptions.abort(message);
        }
        return model;
    }

    static InstaFlow load() {
        String threads = System.getProperty("instaflow.test.threads");
        if (threads != null && !threads.isBlank()) {
            InstaFlow.configure(RuntimeSettings.defaults().withThreads(Integer.parseInt(threads)));
        }
        return InstaFlow.load(directory(), LoadOptions.builder().device(Device.cpu()).build());
    }

    /** The largest difference of one channel of one pixel between two images of the same size. */
    static int maxDifference(BufferedImage a, BufferedImage b) {
        Assertions.assertEquals(a.getWidth(), b.getWidth());
        Assertions.assertEquals(a.getHeight(), b.getHeight());
        int max = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    max = Math.max(max, Math.abs((p >> shift & 0xff) - (q >> shift & 0xff)));
                }
            }
        }
        return max;
    }

    static int maxDifference(Generation a, Generation b) {
        Assertions.assertEquals(a.images().size(), b.images().size());
        int max = 0;
        for (int i = 0; i < a.images().size(); i++) {
            max = Math.max(max, maxDifference(a.images().get(i), b.images().get(i)));
        }
        return max;
    }
}
