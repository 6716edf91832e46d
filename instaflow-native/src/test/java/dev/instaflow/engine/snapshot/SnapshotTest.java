package dev.instaflow.engine.snapshot;

import dev.instaflow.InvalidModelException;
import dev.instaflow.LoadOptions;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.Prediction;
import dev.instaflow.engine.testing.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A snapshot's manifest comes from its configs, its tokenizer, instaflow.json and the documented rules. */
class SnapshotTest {
    @TempDir
    Path temp;

    @Test
    void tinySd15ManifestFromItsConfigs() {
        Path dir = SharedFixtures.tinySd15().resolve("model");
        assertTrue(Snapshot.isSnapshot(dir));
        BundleManifest m = Snapshot.open(dir, LoadOptions.defaults()).manifest();
        assertEquals(new Prediction.Velocity(1000.0), m.prediction(), "RectifiedFlowPipeline means velocity at 1000");
        assertEquals(new BundleManifest.Latent(4, 2, 0.18215), m.latent());
        assertEquals(new BundleManifest.Image(32, 32, 4), m.image(), "sample_size 16 x factor 2; factor x 2 levels");
        assertEquals(new BundleManifest.Text(77, 32, 49406, 49407, 49407), m.text());
        assertEquals(1, m.sampling().steps());
        assertEquals(0.0, m.sampling().guidance());
    }

    @Test
    void tinySd21PadsWithIdZeroFromSpecialTokensMap() {
        BundleManifest m = Snapshot.open(SharedFixtures.tinySd21().resolve("model"), LoadOptions.defaults())
                .manifest();
        assertEquals(new BundleManifest.Text(77, 48, 49406, 49407, 0), m.text());
    }

    @Test
    void settingsFileOverridesPredictionAndSampling() throws IOException {
        Path settings = Files.writeString(temp.resolve("swiftbrush.json"), "{\"name\": \"swift\", \"prediction\":"
                + " {\"type\": \"epsilon\", \"timestep\": 999, \"alpha_bar\": 0.0047}, \"sampling\": {\"steps\": 1},"
                + " \"limits\": {\"max_batch\": 4}}");
        BundleManifest m = Snapshot.open(SharedFixtures.tinySd21().resolve("model"),
                LoadOptions.builder().settings(settings).build()).manifest();
        assertEquals(new Prediction.Epsilon(999, 0.0047), m.prediction());
        assertEquals("swift", m.name());
        assertEquals(4, m.limits().maxBatch());
    }

    @Test
    void settingsCannotOverrideWhatConfigsSay() throws IOException {
        Path settings = Files.writeString(temp.resolve("bad.json"), "{\"latent\": {\"scaling_factor\": 1.0}}");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Snapshot.open(
                SharedFixtures.tinySd15().resolve("model"), LoadOptions.builder().settings(settings).build()));
        assertEquals("latent", e.field().orElseThrow());
        assertTrue(e.getMessage().contains("component configs"), e.getMessage());
    }

    @Test
    void settingsValuesAreCheckedAsInAManifest() throws IOException {
        Path settings = Files.writeString(temp.resolve("bad.json"), "{\"prediction\": {\"type\": \"epsilon\","
                + " \"timestep\": 999, \"alpha_bar\": 1.5}}");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Snapshot.open(
                SharedFixtures.tinySd15().resolve("model"), LoadOptions.builder().settings(settings).build()));
        assertEquals("prediction.alpha_bar", e.field().orElseThrow());
        assertEquals(settings, e.file());
    }

    @Test
    void aPredictionThatIsNotAnObjectIsNamed() throws IOException {
        Path settings = Files.writeString(temp.resolve("bad-type.json"), "{\"prediction\": \"epsilon\"}");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Snapshot.open(
                SharedFixtures.tinySd15().resolve("model"), LoadOptions.builder().settings(settings).build()));
        assertEquals("prediction", e.field().orElseThrow());
        assertTrue(e.getMessage().contains("expected an object, got the string"), e.getMessage());
    }

    @Test
    void aPipelineThatDoesNotSayWhatItPredictsAsksForSettings() throws IOException {
        Path dir = copyConfigs(SharedFixtures.tinySd15().resolve("model"));
        Files.writeString(dir.resolve("model_index.json"), Files.readString(dir.resolve("model_index.json"))
                .replace("RectifiedFlowPipeline", "StableDiffusionPipeline"));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Snapshot.open(dir,
                LoadOptions.defaults()));
        assertEquals("_class_name", e.field().orElseThrow());
        assertTrue(e.getMessage().contains("instaflow.json") && e.getMessage().contains("\"epsilon\""),
                e.getMessage());
        Files.writeString(dir.resolve("instaflow.json"), "{\"prediction\": {\"type\": \"velocity\", \"time_scale\":"
                + " 1000}}");
        assertEquals(new Prediction.Velocity(1000), Snapshot.open(dir, LoadOptions.defaults()).manifest()
                .prediction());
    }

    @Test
    void aComponentClassNotBuiltInIsRefusedNamingTheSupportedOnes() throws IOException {
        Path dir = copyConfigs(SharedFixtures.tinySd15().resolve("model"));
        Files.writeString(dir.resolve("model_index.json"), Files.readString(dir.resolve("model_index.json"))
                .replace("\"UNet2DConditionModel\"", "\"UNet2DModel\""));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Snapshot.open(dir,
                LoadOptions.defaults()));
        assertEquals("unet", e.field().orElseThrow());
        assertTrue(e.getMessage().contains("UNet2DConditionModel"), e.getMessage());
    }

    @Test
    void mismatchedCrossAttentionWidthFailsNamingTheField() throws IOException {
        Path dir = copyConfigs(SharedFixtures.tinySd15().resolve("model"));
        Path unet = dir.resolve("unet/config.json");
        Files.writeString(unet, Files.readString(unet).replace("\"cross_attention_dim\": 32",
                "\"cross_attention_dim\": 48"));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Snapshot.open(dir,
                LoadOptions.defaults()));
        assertEquals(unet, e.file());
        assertEquals("cross_attention_dim", e.field().orElseThrow());
    }

    /** The snapshot's configs and tokenizer files (no weights), copied into a writable folder. */
    private Path copyConfigs(Path source) throws IOException {
        Path dir = temp.resolve("snapshot");
        try (Stream<Path> files = Files.walk(source)) {
            for (Path p : files.toList()) {
                Path target = dir.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().endsWith(".safetensors")) {
                    Files.copy(p, target);
                }
            }
        }
        return dir;
    }
}
