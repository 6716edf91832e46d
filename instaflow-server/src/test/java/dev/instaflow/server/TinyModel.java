package dev.instaflow.server;

import dev.instaflow.Device;
import dev.instaflow.Generation;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.engine.testing.SharedFixtures;
import org.junit.jupiter.api.Assertions;

import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * The shared tiny SD-1.5-shaped model ({@code ../shared/fixtures/tiny-sd15/model}, a diffusers snapshot) on the CPU
 * with the thread count Maven passes. Missing fixtures fail under {@code CI=true} and skip elsewhere
 * ({@link SharedFixtures}).
 */
final class TinyModel {
    private TinyModel() {
    }

    static Path directory() {
        return SharedFixtures.tinySd15().resolve("model");
    }

    static InstaFlow load() {
        String threads = System.getProperty("instaflow.test.threads");
        if (threads != null && !threads.isBlank()) {
            InstaFlow.configure(InstaFlow.runtimeSettings().withThreads(Integer.parseInt(threads)));
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
