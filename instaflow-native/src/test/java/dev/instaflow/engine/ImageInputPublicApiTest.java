package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.InvalidModelException;
import dev.instaflow.LoadOptions;
import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.ManifestReader;
import dev.instaflow.engine.testing.SharedFixtures;
import dev.instaflow.engine.testing.TinyBundle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image inputs through {@code InstaFlow}: snapshots, bundles with and without {@code parts.vae_encoder}, refusals. */
class ImageInputPublicApiTest {
    @TempDir
    Path temp;

    static BufferedImage picture() {
        return ImageToImageTest.picture(12);
    }

    /** White (repaint) on the left half, black (keep) on the right. */
    static BufferedImage leftHalf() {
        BufferedImage m = ImageToImageTest.solid(Color.BLACK);
        Graphics2D g = m.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 16, 32);
        g.dispose();
        return m;
    }

    static void assertContains(String message, String fragment) {
        assertTrue(message.contains(fragment), "message '" + message + "' should contain '" + fragment + "'");
    }

    @Test
    void aSnapshotInpaintsAndKeepsTheUnmaskedPixelsWhenAsked() {
        try (InstaFlow model = InstaFlow.load(SharedFixtures.tinySd15().resolve("model"),
                TestSettings.loadOptions())) {
            assertTrue(model.info().features().imageInput());
            BufferedImage image = picture();
            GenerationRequest request = GenerationRequest.builder().prompt("a cat").seed(3).steps(2)
                    .initImage(image).strength(0.6).mask(leftHalf()).keepUnmaskedPixels(true).build();
            Generation g = model.generate(request);
            assertEquals(0.6, g.settings().strength());
            assertTrue(g.settings().masked());
            assertEquals(32, g.settings().width());
            int changed = 0;
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    int got = g.image().getRGB(x, y) & 0xffffff;
                    int original = image.getRGB(x, y) & 0xffffff;
                    if (x >= 16) {
                        assertEquals(original, got, "kept pixel " + x + "," + y);
                    } else if (got != original) {
                        changed++;
                    }
                }
            }
            assertTrue(changed > 0, "the masked half is generated");
            Generation plain = model.generate(request.toBuilder().keepUnmaskedPixels(false).build());
            assertFalse(plain.image().getRGB(20, 20) == image.getRGB(20, 20)
                    && plain.image().getRGB(25, 5) == image.getRGB(25, 5)
                    && plain.image().getRGB(30, 30) == image.getRGB(30, 30),
                    "without the option the kept half is the decoded latents, not pasted pixels");

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.generate(
                    GenerationRequest.builder().prompt("a").initImage(new BufferedImage(33, 32,
                            BufferedImage.TYPE_INT_RGB)).build()));
            assertContains(e.getMessage(), "not a multiple of");
        }
    }

    @Test
    void aBundleWithoutAnEncoderRefusesInitImages() {
        try (InstaFlow model = InstaFlow.load(TinyBundle.create(temp.resolve("plain")), TestSettings.loadOptions())) {
            assertFalse(model.info().features().imageInput());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.generate(
                    GenerationRequest.builder().prompt("a").initImage(picture()).build()));
            assertContains(e.getMessage(), "has no VAE encoder");
            assertContains(e.getMessage(), "parts.vae_encoder");
        }
    }

    static UnaryOperator<BundleManifest> encoderPart(String file) {
        return m -> new BundleManifest(m.formatVersion(), m.name(), m.family(), m.description(), m.dtype(),
                m.tracedOn(), m.prediction(), m.latent(), m.image(), m.text(), m.sampling(), m.limits(),
                new BundleManifest.Parts(m.parts().textEncoder(), m.parts().denoiser(), m.parts().vaeDecoder(),
                        m.parts().tokenizer(), null, file), m.provenance());
    }

    /** A TorchScript VAE encoder of the right signature: a 2x2 stride-2 convolution from 3 to 4 channels. */
    static Path scriptedEncoder(Path file) {
        try (PointerScope scope = new PointerScope();
             ScriptModuleBuilder b = new ScriptModuleBuilder("TinyEncoder")) {
            torch.manual_seed(5);
            b.parameter("w", torch.randn(4, 3, 2, 2).mul(new org.bytedeco.pytorch.Scalar(0.3)))
                    .define("def forward(self, x: Tensor) -> Tensor:\n"
                            + "    return torch.conv2d(x, self.w, None, [2, 2], [0, 0])\n")
                    .save(file);
        }
        return file;
    }

    @Test
    void aBundleWithAVaeEncoderPartTakesInitImages() throws IOException {
        Path dir = TinyBundle.create(temp.resolve("with-encoder"), encoderPart("vae_encoder.pt"));
        scriptedEncoder(dir.resolve("vae_encoder.pt"));
        assertEquals("vae_encoder.pt", ManifestReader.read(dir.resolve("manifest.json")).parts().vaeEncoder(),
                "written and read back");
        assertTrue(Files.readString(dir.resolve("manifest.json")).contains("\"vae_encoder\""));
        try (InstaFlow model = InstaFlow.load(dir, TestSettings.loadOptions())) {
            assertTrue(model.info().features().imageInput());
            Generation g = model.generate(GenerationRequest.builder().prompt("a").seed(1).initImage(picture())
                    .strength(0.5).build());
            assertEquals(0.5, g.settings().strength());
            assertFalse(g.settings().masked());
        }
    }

    @Test
    void aWrongEncoderPartFailsAtLoadNamingTheField() {
        Path dir = TinyBundle.create(temp.resolve("wrong-encoder"), encoderPart("vae_decoder.pt"));
        InvalidModelException e = assertThrows(InvalidModelException.class,
                () -> InstaFlow.load(dir, TestSettings.loadOptions()).close());
        assertEquals("parts.vae_encoder", e.field().orElse(null), e.getMessage());
        Path missing = TinyBundle.create(temp.resolve("missing-encoder"), encoderPart("nothing.pt"));
        InvalidModelException m = assertThrows(InvalidModelException.class,
                () -> InstaFlow.load(missing, TestSettings.loadOptions()).close());
        assertEquals("parts.vae_encoder", m.field().orElse(null), m.getMessage());
    }

    @Test
    void anEpsilonModelRefusesStrengthBelowOneAndMasks() throws IOException {
        Path settings = Files.writeString(temp.resolve("eps.json"),
                "{\"prediction\": {\"type\": \"epsilon\", \"timestep\": 999, \"alpha_bar\": 0.0047}}");
        LoadOptions options = TestSettings.loadOptions().toBuilder().settings(settings).build();
        try (InstaFlow model = InstaFlow.load(SharedFixtures.tinySd15().resolve("model"), options)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.generate(
                    GenerationRequest.builder().prompt("a").initImage(picture()).strength(0.5).build()));
            assertContains(e.getMessage(), "one-step epsilon");
            IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> model.generate(
                    GenerationRequest.builder().prompt("a").initImage(picture()).mask(leftHalf()).build()));
            assertContains(m.getMessage(), "nor a mask");
            Generation g = model.generate(GenerationRequest.builder().prompt("a").seed(2).initImage(picture())
                    .strength(1).build());
            assertEquals(1.0, g.settings().strength(), "strength 1 is plain one-step generation");
        }
    }
}
