package dev.instaflow.samples.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BundleCommandTest {
    @TempDir
    Path temp;

    @Test
    void reportsWhatItLearnedFromTheTinyParts() throws IOException {
        Path out = temp.resolve("tiny");
        Cli.Result r = Cli.run(TestModels.bundleArgs(out)).succeeded();
        String s = r.out();
        assertTrue(s.startsWith("bundle written to " + out), s);
        assertTrue(s.contains("latent channels  4"), s);
        assertTrue(s.contains("VAE factor       2"), s);
        assertTrue(s.contains("size multiple    4"), s);
        assertTrue(s.contains("77 tokens x 32"), s);
        assertTrue(s.contains("bos 49406, eos 49407, pad 49407"), s);
        assertTrue(s.contains("float32, traced on cpu"), s);
        assertTrue(s.contains("32x32, euler 1 step(s), guidance 0.0"), s);

        JsonObject manifest = JsonParser.parseString(Files.readString(out.resolve("manifest.json"))).getAsJsonObject();
        assertEquals("tiny-sd15", manifest.get("name").getAsString());
        assertEquals(32, manifest.getAsJsonObject("image").get("default_width").getAsInt());
        assertTrue(Files.isRegularFile(out.resolve("denoiser.pt")));
    }

    @Test
    void presetAndFlagsSetTheDefaults() {
        Path out = temp.resolve("rf");
        String[] args = TestModels.bundleArgs(out);
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("instaflow")) {
                args[i] = "rectified-flow";
            }
        }
        String[] more = java.util.Arrays.copyOf(args, args.length + 4);
        more[args.length] = "--steps";
        more[args.length + 1] = "3";
        more[args.length + 2] = "--negative-prompt";
        more[args.length + 3] = "blurry";
        Cli.Result r = Cli.run(more).succeeded();
        assertTrue(r.out().contains("euler 3 step(s), guidance 1.5, negative prompt \"blurry\""), r.out());
    }

    @Test
    void aStagingFolderAKilledRunLeftIsRemoved() throws IOException, InterruptedException {
        Path out = temp.resolve("again");
        Process ended = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-version").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        ended.waitFor();
        Path stale = Files.createDirectories(temp.resolve(".again.partial-" + ended.pid() + "-"
                + java.util.UUID.randomUUID()));
        Files.writeString(stale.resolve("manifest.json"), "{}");

        Cli.run(TestModels.bundleArgs(out)).succeeded();
        assertFalse(Files.exists(stale), "the killed run's staging folder is removed");
        try (Stream<Path> left = Files.list(temp)) {
            assertEquals(java.util.List.of("again"), left.map(p -> p.getFileName().toString()).toList());
        }
    }

    /** The tiny fixture's bundle arguments without --width/--height, and with the given tokenizer folder. */
    private static String[] withoutSize(String[] args, Path tokenizer) {
        java.util.List<String> kept = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--width") || args[i].equals("--height")) {
                i++;
            } else if (args[i].equals("--tokenizer")) {
                kept.add(args[i]);
                kept.add(tokenizer.toString());
                i++;
            } else {
                kept.add(args[i]);
            }
        }
        return kept.toArray(new String[0]);
    }

    @Test
    void theDefaultSizeIsTheOneTheModelWasMadeFor() throws IOException {
        // rectified-flow, no --width/--height: the snapshot beside the tokenizer says unet sample_size 16, VAE
        // factor 2, so 32x32 (the fixed 64 latent cells gave 128x128: 16 times the work per image).
        Path out = temp.resolve("sized");
        String[] args = withoutSize(TestModels.bundleArgs(out), TestModels.tinySd15().resolve("model/tokenizer"));
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("instaflow")) {
                args[i] = "rectified-flow";
            }
        }
        Cli.Result r = Cli.run(args).succeeded();
        assertTrue(r.out().contains("size             32x32   (") && r.out().contains("sample_size 16 x VAE factor 2"),
                r.out());
        JsonObject image = JsonParser.parseString(Files.readString(out.resolve("manifest.json"))).getAsJsonObject()
                .getAsJsonObject("image");
        assertEquals(32, image.get("default_width").getAsInt());
        assertEquals(32, image.get("default_height").getAsInt());
    }

    @Test
    void withoutSnapshotConfigsTheSizeMustBeGiven() throws IOException {
        Path tokenizer = Files.createDirectories(temp.resolve("loose/tokenizer"));
        try (Stream<Path> files = Files.list(TestModels.tinySd15().resolve("model/tokenizer"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, tokenizer.resolve(f.getFileName().toString()));
            }
        }
        Path out = temp.resolve("unsized");
        Cli.Result r = Cli.run(withoutSize(TestModels.bundleArgs(out), tokenizer)).failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().contains("give --width and --height"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void anUnknownPresetIsAUsageError() {
        String[] args = TestModels.bundleArgs(temp.resolve("x"));
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("instaflow")) {
                args[i] = "sdxl";
            }
        }
        Cli.Result r = Cli.run(args).failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().contains("'sdxl'") && r.err().contains("rectified-flow"), r.err());
        assertFalse(Files.exists(temp.resolve("x")));
    }

    @Test
    void aNonEmptyOutputFolderIsRefusedAndKept() throws IOException {
        Path out = Files.createDirectories(temp.resolve("full"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        Cli.Result r = Cli.run(TestModels.bundleArgs(out)).failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().contains("not an empty folder"), r.err());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
    }

    @Test
    void aCorruptPartIsNamedAndLeavesNothing() throws IOException {
        Path broken = temp.resolve("broken.pt");
        byte[] unet = Files.readAllBytes(TestModels.tinySd15().resolve("torchscript/unet.pt"));
        Files.write(broken, java.util.Arrays.copyOf(unet, unet.length / 3));
        String[] args = TestModels.bundleArgs(temp.resolve("never"));
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--denoiser")) {
                args[i + 1] = broken.toString();
            }
        }
        Cli.Result r = Cli.run(args).failedWith(InstaFlowCli.FAILURE);
        assertTrue(r.err().contains("broken.pt"), r.err());
        assertFalse(Files.exists(temp.resolve("never")));
        try (Stream<Path> left = Files.list(temp)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains("partial")), "no staging folder left");
        }
    }
}
