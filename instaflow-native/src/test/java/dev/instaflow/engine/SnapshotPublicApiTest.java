package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.InvalidModelException;
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
            assertEquals(32, model.info().defaults().width(), "sample_size 16 x VAE factor 2");
            assertEquals(77, model.info().limits().maxTokens());
            Generation g = model.generate(GenerationRequest.builder().prompt(c.prompt()).negativePrompt("")
                    .seed(c.seed()).steps(c.steps()).guidance(c.guidance()).build());
            assertEquals(0, ParityAssertions.assertImagesMatch(c, g), "identical pixels");
        }
    }

    /**
     * The Hugging Face hub cache's layout: {@code models--ORG--NAME/snapshots/REV/<component>/<file>} are symbolic
     * links to {@code models--ORG--NAME/blobs/<hash>}. Such a snapshot loads; a link elsewhere is still refused.
     */
    @Test
    void aSnapshotInTheHuggingFaceCacheLoadsThroughItsBlobLinks() throws IOException {
        Path source = SharedFixtures.tinySd21().resolve("model");
        Path repo = temp.resolve("hub/models--someone--tiny-sd21");
        Path blobs = Files.createDirectories(repo.resolve("blobs"));
        Path snapshot = repo.resolve("snapshots/0123abcd");
        int[] n = {0};
        try (var files = Files.walk(source)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                Path blob = Files.copy(p, blobs.resolve("blob" + n[0]++));
                Path link = snapshot.resolve(source.relativize(p).toString());
                Files.createDirectories(link.getParent());
                Files.createSymbolicLink(link, link.getParent().relativize(blob));
            }
        }
        ReferenceCase c = ReferenceCase.at(SharedFixtures.tinySd21Case("rf_n2_cfg1.5"));
        try (InstaFlow model = InstaFlow.load(snapshot, TestSettings.loadOptions())) {
            Generation g = model.generate(GenerationRequest.builder().prompt(c.prompt()).negativePrompt("")
                    .seed(c.seed()).steps(c.steps()).guidance(c.guidance()).build());
            ParityAssertions.assertImagesMatch(c, g);
        }
        Path outside = Files.writeString(temp.resolve("elsewhere.json"), "{}");
        Path config = snapshot.resolve("vae/config.json");
        Files.delete(config);
        Files.createSymbolicLink(config, outside);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> InstaFlow.load(snapshot,
                TestSettings.loadOptions()));
        assertTrue(e.getMessage().contains("outside"), e.getMessage());
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
            Generation g = model.generate(GenerationRequest.builder().prompt(c.prompt()).seed(c.seed()).build());
            ParityAssertions.assertImagesMatch(c, g);
        }
        Files.delete(unet.resolve("diffusion_pytorch_model.fp16.safetensors"));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> InstaFlow.load(snapshot,
                TestSettings.loadOptions()));
        assertTrue(e.getMessage().contains("no unet weights"), e.getMessage());
    }
}
