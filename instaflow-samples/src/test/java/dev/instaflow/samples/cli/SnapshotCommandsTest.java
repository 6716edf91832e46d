package dev.instaflow.samples.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI on diffusers snapshots as published: generate reproduces the reference images; inspect describes them. */
class SnapshotCommandsTest {
    @TempDir
    Path temp;

    @Test
    void generateOnTheSd21ShapedSnapshotReproducesItsReferenceImage() throws IOException {
        ReferenceCase c = ReferenceCase.at(SharedFixtures.tinySd21Case("rf_n2_cfg1.5"));
        Path out = temp.resolve("cat.png");
        Cli.run("generate", "--model", SharedFixtures.tinySd21().resolve("model").toString(), "--prompt", c.prompt(),
                "--negative-prompt", "", "--seed", Long.toString(c.seed()), "--steps", Integer.toString(c.steps()),
                "--guidance", Double.toString(c.guidance()), "--width", Integer.toString(c.width()), "--height",
                Integer.toString(c.height()), "--device", "cpu", "--threads", TestModels.threads(), "--out",
                out.toString()).succeeded();
        assertImageEquals(c, ImageIO.read(out.toFile()));
    }

    @Test
    void generateOnAnEpsilonSnapshotWithSettingsReproducesItsReferenceImage() throws IOException {
        ReferenceCase c = ReferenceCase.at(SharedFixtures.tinySd21Case("swiftbrush_eps_n1"));
        Path settings = Files.writeString(temp.resolve("instaflow.json"), "{\"prediction\": {\"type\": \"epsilon\","
                + " \"timestep\": 999, \"alpha_bar\": 0.0047}}");
        Path out = temp.resolve("fox.png");
        Cli.run("generate", "--model", SharedFixtures.tinySd21().resolve("model").toString(), "--settings",
                settings.toString(), "--prompt", c.prompt(), "--seed", Long.toString(c.seed()), "--device", "cpu",
                "--threads", TestModels.threads(), "--out", out.toString()).succeeded();
        assertImageEquals(c, ImageIO.read(out.toFile()));
    }

    @Test
    void inspectDescribesASnapshotFromItsConfigsAndHeaders() {
        Cli.Result r = Cli.run("inspect", "--json", "--model", SharedFixtures.tinySd21().resolve("model").toString())
                .succeeded();
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals("diffusers snapshot", o.get("kind").getAsString());
        JsonObject text = o.getAsJsonObject("manifest").getAsJsonObject("text");
        assertEquals(48, text.get("hidden_size").getAsInt());
        assertEquals(0, text.get("pad_id").getAsInt(), "SD 2.x pads with '!' (id 0)");
        JsonObject unet = o.getAsJsonObject("components").getAsJsonObject("unet");
        assertTrue(unet.get("network").getAsString().contains("linear projections"), unet.toString());
        assertEquals(304, unet.get("tensors").getAsInt());
        assertEquals(304, unet.getAsJsonObject("dtypes").get("F32").getAsInt());
    }

    @Test
    void aSnapshotThatDoesNotSayWhatItPredictsFailsWithWhatToWrite() throws IOException {
        Path dir = temp.resolve("snapshot");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("model_index.json"), "{\"_class_name\": \"StableDiffusionPipeline\","
                + " \"unet\": [\"diffusers\", \"UNet2DConditionModel\"]}");
        Cli.Result r = Cli.run("inspect", "--model", dir.toString());
        assertTrue(r.exitCode() != 0, r::toString);
        assertTrue(r.err().contains("model_index.json"), r.err());
    }

    private static void assertImageEquals(ReferenceCase c, BufferedImage image) {
        byte[] expected = c.bytes("image_uint8");
        int max = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                int i = (y * image.getWidth() + x) * 3;
                max = Math.max(max, Math.abs(((rgb >> 16) & 0xff) - (expected[i] & 0xff)));
                max = Math.max(max, Math.abs(((rgb >> 8) & 0xff) - (expected[i + 1] & 0xff)));
                max = Math.max(max, Math.abs((rgb & 0xff) - (expected[i + 2] & 0xff)));
            }
        }
        assertTrue(max <= 1, "PNG differs from image_uint8 by " + max + " levels");
    }
}
