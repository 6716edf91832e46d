package dev.instaflow.tooling.assembly;

import dev.instaflow.Device;
import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.InvalidModelException;
import dev.instaflow.LoadOptions;
import dev.instaflow.ModelInfo;
import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.testing.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BundleAssemblerTest {
    @TempDir
    Path temp;

    static BundleAssembler tinyParts() {
        Path fixture = SharedFixtures.tinySd15();
        return new BundleAssembler()
                .textEncoder(fixture.resolve("torchscript/text_encoder.pt"))
                .denoiser(fixture.resolve("torchscript/unet.pt"))
                .vaeDecoder(fixture.resolve("torchscript/vae_decoder.pt"))
                .tokenizer(fixture.resolve("model/tokenizer"));
    }

    @Test
    void learnsTheTinyModelsGeometryAndMakesALoadableBundle() {
        Path out = temp.resolve("tiny-bundle");
        BundleManifest m = tinyParts().preset(BundlePreset.INSTAFLOW).assemble(out);

        assertEquals(4, m.latent().channels());
        assertEquals(2, m.latent().vaeScaleFactor(), "16x16 latents decode to 32x32");
        assertEquals(4, m.image().sizeMultiple(), "the tiny UNet downsamples once: even latents");
        assertEquals(32, m.text().hiddenSize());
        assertEquals(77, m.text().maxLength());
        assertEquals(49406, m.text().bosId());
        assertEquals(49407, m.text().eosId());
        assertEquals(49407, m.text().padId(), "SD 1.5 pads with <|endoftext|>");
        assertEquals(128, m.image().defaultWidth(), "64 latent cells times the learned factor");
        assertEquals(1, m.sampling().steps());
        assertEquals(0.0, m.sampling().guidance());
        assertEquals(ModelInfo.Prediction.VELOCITY, m.prediction().type());
        assertTrue(Files.isRegularFile(out.resolve("manifest.json")));

        try (InstaFlow model = InstaFlow.load(out, LoadOptions.builder().device(Device.cpu()).build())) {
            Generation g = model.generate(GenerationRequest.builder().prompt("a photo of a cat").seed(1234)
                    .size(32, 32).build());
            assertEquals(32, g.image().getWidth());
        }
    }

    @Test
    void rectifiedFlowPresetSetsFewStepsWithGuidance() {
        BundleManifest m = tinyParts().preset(BundlePreset.RECTIFIED_FLOW).steps(3).assemble(temp.resolve("rf"));
        assertEquals(3, m.sampling().steps(), "flags override the preset");
        assertEquals(1.5, m.sampling().guidance());
    }

    @Test
    void flagsThatMakeAnUnusableDefaultFailBeforeWriting() {
        Path out = temp.resolve("sb");
        InvalidModelException e = assertThrows(InvalidModelException.class,
                () -> tinyParts().preset(BundlePreset.SWIFTBRUSH).steps(4).assemble(out));
        assertEquals("sampling.steps", e.field().orElseThrow());
        assertFalse(Files.exists(out));
    }

    @Test
    void anOutputThatIsAFileIsRefused() throws IOException {
        Path out = Files.writeString(temp.resolve("a-file"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tinyParts().assemble(out));
        assertTrue(e.getMessage().contains("already exists and is not an empty folder"), e.getMessage());
    }

    @Test
    void halfPrecisionPartsAreRefusedWithAReason() {
        Path half = temp.resolve("half_vae.pt");
        try (ScriptModuleBuilder vae = new ScriptModuleBuilder("HalfVae")) {
            vae.parameter("w", org.bytedeco.pytorch.global.torch.ones(3, 4, 1, 1).to(
                    org.bytedeco.pytorch.global.torch.ScalarType.Half))
                    .define("def forward(self, z: Tensor) -> Tensor:\n"
                            + "    return torch.conv2d(z, self.w, None, [1, 1], [0, 0])\n")
                    .save(half);
        }
        InvalidModelException e = assertThrows(InvalidModelException.class,
                () -> tinyParts().vaeDecoder(half).assemble(temp.resolve("never")));
        assertEquals("--vae-decoder", e.field().orElseThrow());
        assertTrue(e.getMessage().contains("Half weights") && e.getMessage().contains("exporter"), e.getMessage());
    }

    @Test
    void refusesANonEmptyOutputFolder() throws IOException {
        Path out = Files.createDirectories(temp.resolve("full"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tinyParts().assemble(out));
        assertTrue(e.getMessage().contains("not an empty folder"), e.getMessage());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
    }

    @Test
    void aCorruptPartLeavesNothingBehind() throws IOException {
        Path broken = temp.resolve("broken.pt");
        byte[] unet = Files.readAllBytes(SharedFixtures.tinySd15().resolve("torchscript/unet.pt"));
        Files.write(broken, java.util.Arrays.copyOf(unet, unet.length / 3));
        Path out = temp.resolve("never");
        InvalidModelException e = assertThrows(InvalidModelException.class,
                () -> tinyParts().denoiser(broken).assemble(out));
        assertTrue(e.getMessage().contains("broken.pt"), e.getMessage());
        assertFalse(Files.exists(out));
        try (Stream<Path> left = Files.list(temp)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains("partial")), "staging folder removed");
        }
    }
}
