package dev.instaflow.engine.demo;

import dev.instaflow.Device;
import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.DataBufferByte;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo bundle needs nothing but the project's code, and generates deterministically. */
class DemoBundleTest {
    @TempDir
    Path temp;

    @Test
    void buildsLoadsAndGeneratesDeterministically() {
        Path dir = DemoBundle.write(temp.resolve("demo"));
        try (InstaFlow model = InstaFlow.load(dir, LoadOptions.builder().device(Device.cpu()).threads(1).build())) {
            assertTrue(model.info().name().startsWith("instaflow-demo"));
            Generation a = model.generate(GenerationRequest.builder().prompt("a red circle").seed(7).build());
            Generation b = model.generate(GenerationRequest.builder().prompt("a red circle").seed(7).build());
            Generation c = model.generate(GenerationRequest.builder().prompt("a blue square").seed(7).build());
            assertEquals(256, a.image().getWidth());
            byte[] pa = ((DataBufferByte) a.image().getRaster().getDataBuffer()).getData();
            byte[] pb = ((DataBufferByte) b.image().getRaster().getDataBuffer()).getData();
            byte[] pc = ((DataBufferByte) c.image().getRaster().getDataBuffer()).getData();
            assertArrayEquals(pa, pb, "same prompt and seed, same image");
            assertFalse(java.util.Arrays.equals(pa, pc), "the prompt changes the image");
        }
    }
}
