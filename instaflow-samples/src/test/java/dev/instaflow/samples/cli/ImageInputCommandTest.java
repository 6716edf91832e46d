package dev.instaflow.samples.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.engine.testing.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code generate --init-image --strength --mask --keep-unmasked}. */
class ImageInputCommandTest {
    @TempDir
    Path temp;

    private Path png(String name, BufferedImage image) throws IOException {
        Path file = temp.resolve(name);
        ImageIO.write(image, "png", file.toFile());
        return file;
    }

    private static BufferedImage picture() {
        BufferedImage im = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                im.setRGB(x, y, (x * 8 << 16) | (y * 8 << 8) | ((x * y) & 0xff));
            }
        }
        return im;
    }

    /** White (repaint) on the top half. */
    private static BufferedImage topHalf() {
        BufferedImage m = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = m.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 32, 16);
        g.dispose();
        return m;
    }

    @Test
    void inpaintsASnapshotAndKeepsTheUnmaskedPixels() throws IOException {
        BufferedImage input = picture();
        Path image = png("in.png", input);
        Path mask = png("mask.png", topHalf());
        Path out = temp.resolve("out.png");
        Cli.Result r = Cli.run("generate", "--model", SharedFixtures.tinySd15().resolve("model").toString(),
                "--prompt", "a cat", "--seed", "4", "--steps", "2", "--init-image", image.toString(), "--strength",
                "0.7", "--mask", mask.toString(), "--keep-unmasked", "--device", "cpu", "--threads",
                TestModels.threads(), "--json", "--out", out.toString()).succeeded();
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(0.7, o.get("strength").getAsDouble());
        assertTrue(o.get("masked").getAsBoolean());
        assertEquals(32, o.get("width").getAsInt());
        BufferedImage written = ImageIO.read(out.toFile());
        for (int y = 16; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                assertEquals(input.getRGB(x, y) & 0xffffff, written.getRGB(x, y) & 0xffffff, x + "," + y);
            }
        }
    }

    @Test
    void aBundleWithoutAnEncoderIsRefusedWithWhatIsMissing() throws IOException {
        Path image = png("in.png", picture());
        Cli.Result r = Cli.run("generate", "--model", TestModels.tinyBundle().toString(), "--prompt", "a",
                "--init-image", image.toString(), "--device", "cpu", "--threads", TestModels.threads(), "--out",
                temp.resolve("x.png").toString()).failedWith(2);
        assertTrue(r.err().contains("has no VAE encoder"), r.err());
    }

    @Test
    void inspectListsTheDefaultModelsVaeEncoderPart() {
        Cli.Result r = Cli.run("inspect", "--json", "--model", "src/main/resources/dev/instaflow/samples/default-model")
                .succeeded();
        JsonObject parts = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonObject("parts");
        assertTrue(parts.has("vae_encoder"), parts.toString());
    }

    /** {@code bundle --vae-encoder}: a scripted 2x2 stride-2 convolution (3 -> 4 channels) makes the bundle take images. */
    @Test
    void bundleWithAVaeEncoderMakesABundleThatTakesInitImages() throws IOException {
        Path encoder = temp.resolve("vae_encoder.pt");
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
             dev.instaflow.engine.authoring.ScriptModuleBuilder b =
                     new dev.instaflow.engine.authoring.ScriptModuleBuilder("TinyEncoder")) {
            b.parameter("w", org.bytedeco.pytorch.global.torch.ones(4, 3, 2, 2)
                            .mul(new org.bytedeco.pytorch.Scalar(0.1)))
                    .define("def forward(self, x: Tensor) -> Tensor:\n"
                            + "    return torch.conv2d(x, self.w, None, [2, 2], [0, 0])\n")
                    .save(encoder);
        }
        Path out = temp.resolve("bundle");
        String[] args = TestModels.bundleArgs(out);
        String[] more = java.util.Arrays.copyOf(args, args.length + 2);
        more[args.length] = "--vae-encoder";
        more[args.length + 1] = encoder.toString();
        Cli.Result made = Cli.run(more).succeeded();
        assertTrue(made.out().contains("vae encoder      vae_encoder.pt"), made.out());
        Path image = png("in.png", picture());
        Cli.Result r = Cli.run("generate", "--model", out.toString(), "--prompt", "a", "--seed", "1",
                "--init-image", image.toString(), "--strength", "0.5", "--device", "cpu", "--threads",
                TestModels.threads(), "--json", "--out", temp.resolve("o.png").toString()).succeeded();
        assertEquals(0.5, JsonParser.parseString(r.out()).getAsJsonObject().get("strength").getAsDouble());
        Cli.Result missing = Cli.run(java.util.Arrays.copyOf(more, more.length)).failedWith(2);
        assertTrue(missing.err().contains("already exists"), missing.err());
    }

    @Test
    void aStrengthOutOfRangeFailsBeforeLoading() throws IOException {
        Path image = png("in.png", picture());
        Cli.Result r = Cli.run("generate", "--model", temp.resolve("nothing").toString(), "--prompt", "a",
                "--init-image", image.toString(), "--strength", "1.5", "--out", temp.resolve("x.png").toString())
                .failedWith(2);
        assertTrue(r.err().contains("strength must be in (0, 1]"), r.err());
    }
}
