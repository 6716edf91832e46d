package dev.instaflow.samples.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerateCommandTest {
    @TempDir
    Path temp;

    private static String[] generate(String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", TestModels.tinyBundle().toString(),
                "--threads", TestModels.threads(), "--device", "cpu"));
        args.addAll(List.of(extra));
        return args.toArray(new String[0]);
    }

    @Test
    void oneImageIsWrittenToExactlyTheOutFileWithASummary() throws IOException {
        Path out = temp.resolve("new/folder/cat.png");
        Cli.Result r = Cli.run(generate("--prompt", "a photo of a cat", "--seed", "1234", "--out", out.toString()))
                .succeeded();

        BufferedImage image = ImageIO.read(out.toFile());
        assertEquals(32, image.getWidth(), "the bundle's default width, set by bundle --width 32");
        assertEquals(32, image.getHeight());
        assertEquals(List.of("cat.png"), listing(out.getParent()), "no temporary file left beside it");
        assertTrue(r.out().contains("wrote " + out), r.toString());
        assertTrue(r.out().contains("seed 1234"), r.toString());
        assertTrue(r.out().contains("time: load"), r.toString());
    }

    @Test
    void severalPromptsAndImagesAreNumberedInBatchOrder() throws IOException {
        Path out = temp.resolve("batch.png");
        Cli.run(generate("--prompt", "a photo of a cat", "--prompt", "a dog", "--num-images", "2", "--seed", "7",
                "--out", out.toString())).succeeded();

        assertEquals(List.of("batch-0.png", "batch-1.png", "batch-2.png", "batch-3.png"), listing(temp));
        // Each prompt's images are consecutive: same prompt, different noise; different prompts differ too.
        BufferedImage cat0 = ImageIO.read(temp.resolve("batch-0.png").toFile());
        BufferedImage cat1 = ImageIO.read(temp.resolve("batch-1.png").toFile());
        assertFalse(java.util.Arrays.equals(pixels(cat0), pixels(cat1)), "two images of one prompt differ");

        // The same seed reproduces the batch; the single-prompt run with that seed gives image 0 again.
        Path again = temp.resolve("again/cat.png");
        Cli.run(generate("--prompt", "a photo of a cat", "--seed", "7", "--out", again.toString())).succeeded();
        assertArrayEquals(pixels(cat0), pixels(ImageIO.read(again.toFile())));
    }

    @Test
    void jsonDescribesTheRun() {
        Path out = temp.resolve("j.png");
        Cli.Result r = Cli.run(generate("--prompt", "a photo of a cat", "--prompt", "", "--num-images", "2",
                "--seed", "4242", "--steps", "2", "--guidance", "1.5", "--negative-prompt", "blurry",
                "--sampler", "heun", "--json", "--out", out.toString())).succeeded();

        assertEquals(1, r.outLines().size(), "one JSON object on one line");
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals("tiny-sd15", o.get("model").getAsString());
        assertEquals("cpu", o.get("device").getAsString());
        assertEquals(4242, o.get("seed").getAsLong());
        assertEquals("heun", o.get("sampler").getAsString());
        assertEquals(2, o.get("steps").getAsInt());
        assertEquals(1.5, o.get("guidance").getAsDouble());
        assertEquals("blurry", o.get("negative_prompt").getAsString());
        assertEquals(32, o.get("width").getAsInt());
        assertEquals(32, o.get("height").getAsInt());
        assertEquals(2, o.get("num_images").getAsInt());
        JsonArray prompts = o.getAsJsonArray("prompts");
        assertEquals(2, prompts.size());
        assertEquals("a photo of a cat", prompts.get(0).getAsJsonObject().get("text").getAsString());
        assertEquals(5, prompts.get(0).getAsJsonObject().get("tokens").getAsInt());
        assertFalse(prompts.get(0).getAsJsonObject().get("truncated").getAsBoolean());
        assertEquals(4, o.getAsJsonArray("files").size());
        assertEquals(temp.resolve("j-3.png").toString(), o.getAsJsonArray("files").get(3).getAsString());
        // Heun: 2 evaluations per step, guided (CFG batch) calls counted once each.
        assertEquals(4, o.get("denoiser_evaluations").getAsInt());
        assertEquals(0, o.get("refiner_evaluations").getAsInt());
        JsonObject timings = o.getAsJsonObject("timings_ms");
        for (String stage : List.of("load", "tokenize", "text_encoder", "noise", "denoise", "decode", "to_image",
                "total", "write")) {
            assertTrue(timings.has(stage), "timings_ms." + stage + " in " + timings);
            assertTrue(timings.get(stage).getAsDouble() >= 0, stage + " " + timings);
        }
        assertTrue(timings.get("total").getAsDouble() > 0, timings.toString());
    }

    @Test
    void aRandomSeedIsReportedAndReproducesTheImage() throws IOException {
        Path first = temp.resolve("random.png");
        Cli.Result r = Cli.run(generate("--prompt", "a photo of a cat", "--json", "--out", first.toString()))
                .succeeded();
        String seed = JsonParser.parseString(r.out()).getAsJsonObject().get("seed").getAsString();

        Path second = temp.resolve("replay.png");
        Cli.run(generate("--prompt", "a photo of a cat", "--seed", seed, "--out", second.toString())).succeeded();
        assertArrayEquals(pixels(ImageIO.read(first.toFile())), pixels(ImageIO.read(second.toFile())));
    }

    @Test
    void aTruncatedPromptIsWarnedAboutOnOneLine() {
        String longPrompt = String.join(" ", java.util.Collections.nCopies(100, "cat"));
        Cli.Result r = Cli.run(generate("--prompt", longPrompt, "--seed", "1", "--out", temp.resolve("t.png").toString()));
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().startsWith("warning: prompt 1 has 100 tokens") && r.err().contains("reads 75"), r.err());
    }

    @Test
    void aNegativePromptWithoutGuidanceIsWarnedAboutNotDroppedSilently() {
        Cli.Result r = Cli.run(generate("--prompt", "a cat", "--negative-prompt", "blurry", "--seed", "1", "--json",
                "--out", temp.resolve("n.png").toString()));
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(List.of("warning: --negative-prompt was ignored: guidance 0.0 is not above 1 (guidance runs, and"
                + " reads the negative prompt, only above 1: try --guidance 1.5)"), r.errLines());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertFalse(o.get("guided").getAsBoolean());
        assertEquals("", o.get("negative_prompt").getAsString());
    }

    @Test
    void missingOutIsAUsageError() {
        Cli.run(generate("--prompt", "x")).failedWith(InstaFlowCli.USAGE);
    }

    @Test
    void anUnknownDeviceIsAUsageErrorNamingTheValue() {
        Path out = temp.resolve("out/x.png");
        Cli.Result r = Cli.run(generate("--prompt", "x", "--device", "tpu", "--out", out.toString()))
                .failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().contains("'tpu'") && r.err().contains("cuda:N"), r.err());
        assertFalse(Files.exists(temp.resolve("out")));
    }

    @Test
    void aWidthTheModelCannotTakeIsAUsageErrorNamingTheMultiple() {
        Path out = temp.resolve("out/x.png");
        Cli.Result r = Cli.run(generate("--prompt", "x", "--width", "33", "--out", out.toString()))
                .failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().startsWith("error: width 33 is not a multiple of 4"), r.err());
        assertFalse(Files.exists(temp.resolve("out")), "no output file, no folder");
    }

    @Test
    void zeroStepsIsAUsageError() {
        Path out = temp.resolve("out/x.png");
        Cli.Result r = Cli.run(generate("--prompt", "x", "--steps", "0", "--out", out.toString()))
                .failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().contains("steps must be >= 1, got 0"), r.err());
        assertFalse(Files.exists(temp.resolve("out")));
    }

    @Test
    void aMissingModelFolderIsNamed() {
        Path missing = temp.resolve("no-such-model");
        Path out = temp.resolve("out/x.png");
        Cli.Result r = Cli.run("generate", "--model", missing.toString(), "--prompt", "x", "--out", out.toString())
                .failedWith(InstaFlowCli.FAILURE);
        assertTrue(r.err().contains(missing.toString()) && r.err().contains("does not exist"), r.err());
        assertFalse(Files.exists(temp.resolve("out")));
    }

    @Test
    void aFolderWithoutManifestIsNamed() throws IOException {
        Path notABundle = Files.createDirectories(temp.resolve("just-a-folder"));
        Files.writeString(notABundle.resolve("readme.txt"), "no manifest here");
        Path out = temp.resolve("out/x.png");
        Cli.Result r = Cli.run("generate", "--model", notABundle.toString(), "--prompt", "x", "--out", out.toString())
                .failedWith(InstaFlowCli.FAILURE);
        assertTrue(r.err().contains("manifest.json"), r.err());
        assertFalse(Files.exists(temp.resolve("out")));
    }

    @Test
    void anOutNameThatIsNotPngIsAUsageError() {
        Cli.Result r = Cli.run(generate("--prompt", "x", "--out", temp.resolve("x.jpg").toString()))
                .failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().contains(".png"), r.err());
    }

    @Test
    void anOutThatIsAFolderIsAUsageErrorNamingIt() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("pictures.png"));
        Cli.Result r = Cli.run(generate("--prompt", "x", "--out", folder.toString())).failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().contains(folder + " is a folder"), r.err());
        assertFalse(r.err().contains(".tmp") || r.err().contains("partial"), "no temporary name: " + r.err());
        assertEquals(List.of(), listing(folder));
    }

    @Test
    void anOutUnderAFileIsAUsageErrorNamingTheFile() throws IOException {
        Path file = Files.writeString(temp.resolve("a"), "a file");
        Cli.Result r = Cli.run(generate("--prompt", "x", "--out", file.resolve("b.png").toString()))
                .failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().contains(file + " is a file, not a folder"), r.err());
        assertFalse(r.err().contains("already exists"), r.err());
    }

    @Test
    void aSetReplacesTheOldSetAndRemovesWhatAKilledRunLeft() throws IOException, InterruptedException {
        Path out = temp.resolve("set.png");
        Files.writeString(temp.resolve("set-0.png"), "old");
        Files.writeString(temp.resolve("set-1.png"), "old");
        // A staging folder of a run killed with -9 (its process is gone), and one of a run still going (this JVM).
        Process ended = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-version").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        ended.waitFor();
        Path stale = Files.createDirectories(temp.resolve(".set.png.partial-" + ended.pid() + "-"
                + java.util.UUID.randomUUID()));
        Files.writeString(stale.resolve("set-0.png"), "half");
        Path live = Files.createDirectories(temp.resolve(".set.png.partial-" + ProcessHandle.current().pid() + "-"
                + java.util.UUID.randomUUID()));
        Path unrelated = Files.createDirectories(temp.resolve(".set.png.partial-mine"));

        Cli.run(generate("--prompt", "x", "--num-images", "2", "--seed", "3", "--out", out.toString())).succeeded();

        assertEquals(List.of(live.getFileName().toString(), unrelated.getFileName().toString(), "set-0.png",
                "set-1.png"), listing(temp), "the dead run's staging removed; the live one and other names kept");
        for (String name : List.of("set-0.png", "set-1.png")) {
            assertEquals(32, ImageIO.read(temp.resolve(name).toFile()).getWidth(), name + " replaced by a new image");
        }
    }

    @Test
    void verboseAddsTheStackTrace() {
        Cli.Result r = Cli.run("generate", "--verbose", "--model", temp.resolve("missing").toString(), "--prompt",
                "x", "--out", temp.resolve("x.png").toString());
        assertEquals(InstaFlowCli.FAILURE, r.exitCode());
        assertTrue(r.errLines().get(0).startsWith("error: "), r.err());
        assertTrue(r.err().contains("InvalidModelException") && r.err().contains("\tat "), r.err());
    }

    @Test
    void pngNamesForOneAndSeveralImages() {
        assertEquals(List.of(Path.of("out/a.png")), PngFiles.names(Path.of("out/a.png"), 1));
        assertEquals(List.of(Path.of("out/a-0.png"), Path.of("out/a-1.png")), PngFiles.names(Path.of("out/a.png"), 2));
        assertEquals(List.of(Path.of("A-0.PNG"), Path.of("A-1.PNG")), PngFiles.names(Path.of("A.PNG"), 2));
    }

    private static List<String> listing(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private static int[] pixels(BufferedImage image) {
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }
}
