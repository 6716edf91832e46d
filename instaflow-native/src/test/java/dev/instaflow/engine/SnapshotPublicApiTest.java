package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.InvalidBundleException;
import dev.instaflow.ProgressListener;
import dev.instaflow.engine.testing.ParityAssertions;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code InstaFlow.load(snapshot)}: nothing but the folder, through the public API, reproduces the references. */
class SnapshotPublicApiTest {
    @TempDir
    Path temp;

    @Test
    void loadsAPublishedSnapshotAndReproducesItsReferenceImage() {
        ReferenceCase c = ReferenceCase.at(SharedFixtures.tinySd21Case("rf_n2_cfg1.5"));
        try (InstaFlow model = InstaFlow.load(SharedFixtures.tinySd21().resolve("model"),
                TestSettings.loadOptions())) {
            assertEquals(32, model.info().defaultWidth(), "sample_size 16 x VAE factor 2");
            assertEquals(48, model.info().textHiddenSize());
            Generation g = model.generate(GenerationRequest.builder().prompt(c.prompt()).negativePrompt("")
                    .seed(c.seed()).steps(c.steps()).guidance(c.guidance()).build(), ProgressListener.NONE);
            assertEquals(0, ParityAssertions.assertImagesMatch(c, g), "identical pixels");
        }
    }

    @Test
    void aVariantIsReadWhenAsked() throws IOException {
        Path snapshot = SnapshotParityTest.copy(SharedFixtures.tinySd15().resolve("model"), temp.resolve("variant"));
        Path unet = snapshot.resolve("unet");
        Files.move(unet.resolve("diffusion_pytorch_model.safetensors"),
                unet.resolve("diffusion_pytorch_model.fp16.safetensors"));
        ReferenceCase c = ReferenceCase.load("instaflow_n1_nocfg");
        try (InstaFlow model = InstaFlow.load(snapshot, TestSettings.loadOptions().toBuilder().variant("fp16")
                .build())) {
            Generation g = model.generate(GenerationRequest.builder().prompt(c.prompt()).seed(c.seed()).build(),
                    ProgressListener.NONE);
            ParityAssertions.assertImagesMatch(c, g);
        }
        Files.delete(unet.resolve("diffusion_pytorch_model.fp16.safetensors"));
        InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> InstaFlow.load(snapshot,
                TestSettings.loadOptions()));
        assertTrue(e.getMessage().contains("no unet weights"), e.getMessage());
    }
}
