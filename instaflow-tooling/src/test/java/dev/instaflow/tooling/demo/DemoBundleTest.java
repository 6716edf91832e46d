package dev.instaflow.tooling.demo;

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
    /** A float16 copy of the demo bundle (its weights halved, its manifest saying so) loads on the CPU cast up. */
    @Test
    void aHalfPrecisionBundleCastUpRunsOnTheCpu() throws java.io.IOException {
        Path dir = DemoBundle.write(temp.resolve("demo16"));
        for (String part : new String[] {"text_encoder.pt", "denoiser.pt", "vae_decoder.pt"}) {
            org.bytedeco.pytorch.JitModule m = org.bytedeco.pytorch.global.torch.load(dir.resolve(part).toString());
            dev.instaflow.engine.runtime.ModulePreparation.prepare(m,
                    org.bytedeco.pytorch.global.torch.ScalarType.Half);
            m.save(dir.resolve(part).toString());
        }
        dev.instaflow.engine.bundle.BundleManifest m = dev.instaflow.engine.bundle.ManifestReader.read(
                dir.resolve("manifest.json"));
        dev.instaflow.engine.bundle.ManifestWriter.write(new dev.instaflow.engine.bundle.BundleManifest(
                m.formatVersion(), m.name(), m.family(), m.description(), dev.instaflow.Precision.FLOAT16, m.tracedOn(),
                m.prediction(), m.latent(), m.image(), m.text(), m.sampling(), m.limits(), m.parts(), m.provenance()),
                dir);
        LoadOptions cpu = LoadOptions.builder().device(Device.cpu()).build();
        org.junit.jupiter.api.Assertions.assertThrows(dev.instaflow.DeviceUnavailableException.class,
                () -> InstaFlow.load(dir, cpu));
        try (InstaFlow model = InstaFlow.load(dir, cpu.toBuilder().precision(dev.instaflow.Precision.FLOAT32).build())) {
            assertEquals(dev.instaflow.Precision.FLOAT32, model.info().precision());
            assertEquals(256, model.generate(GenerationRequest.builder().prompt("a red circle").seed(7).build())
                    .image().getWidth());
        }
    }

    @TempDir
    Path temp;

    @Test
    void buildsLoadsAndGeneratesDeterministically() {
        Path dir = DemoBundle.write(temp.resolve("demo"));
        try (InstaFlow model = InstaFlow.load(dir, LoadOptions.builder().device(Device.cpu()).build())) {
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
