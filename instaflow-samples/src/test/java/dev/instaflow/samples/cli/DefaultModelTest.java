package dev.instaflow.samples.cli;

import dev.instaflow.InstaFlowException;
import dev.instaflow.tooling.demo.DemoBundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DefaultModelTest {
    @TempDir
    Path temp;

    @Test
    void withoutModelTheShippedTrainedModelIsExtractedOnceAndUsed() throws IOException {
        Path home = temp.resolve("home");
        String previous = System.getProperty(DefaultModel.HOME_PROPERTY);
        System.setProperty(DefaultModel.HOME_PROPERTY, home.toString());
        try {
            Path out = temp.resolve("shape.png");
            Cli.Result first = Cli.run("generate", "--prompt", "a yellow circle on a blue background", "--seed", "2",
                    "--device", "cpu", "--threads", TestModels.threads(), "--json", "--out", out.toString())
                    .succeeded(); // no demo note: the shipped model is a trained one
            com.google.gson.JsonObject json = com.google.gson.JsonParser.parseString(first.out()).getAsJsonObject();
            List<String> models = listing(home.resolve("models"));
            assertEquals(1, models.size(), "one extracted model, no staging folders: " + models);
            assertTrue(models.get(0).startsWith("default-"), models.toString());
            assertEquals(home.resolve("models").resolve(models.get(0)).toRealPath().toString(),
                    json.get("model_dir").getAsString());
            assertEquals(32, javax.imageio.ImageIO.read(out.toFile()).getWidth(), "the model's default size");

            Path extracted = home.resolve("models").resolve(models.get(0));
            long written = Files.getLastModifiedTime(extracted.resolve("denoiser.pt")).toMillis();
            Cli.run("inspect", "--json").succeeded();
            assertEquals(written, Files.getLastModifiedTime(extracted.resolve("denoiser.pt")).toMillis(),
                    "reused, not extracted again");
        } finally {
            if (previous == null) {
                System.clearProperty(DefaultModel.HOME_PROPERTY);
            } else {
                System.setProperty(DefaultModel.HOME_PROPERTY, previous);
            }
        }
    }

    @Test
    void aJarWithoutTheTrainedModelFallsBackToTheLabelledDemo() throws IOException {
        Path home = temp.resolve("home");
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            java.io.StringWriter err = new java.io.StringWriter();
            Path first = new ModelOptions().directory(new java.io.PrintWriter(err, true), new DefaultModel(home, empty));
            assertEquals(DefaultModel.DEMO_NOTE + System.lineSeparator(), err.toString(), "the demo is labelled");
            Path demo = home.resolve("models/demo-v" + DemoBundle.VERSION);
            assertEquals(demo, first);
            assertTrue(Files.isRegularFile(demo.resolve("manifest.json")));
            long built = Files.getLastModifiedTime(demo.resolve("denoiser.pt")).toMillis();
            assertEquals(demo, new DefaultModel(home, empty).locate().directory());
            assertEquals(built, Files.getLastModifiedTime(demo.resolve("denoiser.pt")).toMillis(), "reused, not rebuilt");
            assertEquals(List.of("demo-v" + DemoBundle.VERSION), listing(home.resolve("models")),
                    "no staging folders left");
        }
    }

    @Test
    void aBuiltInModelOnTheClasspathIsExtractedUnderItsIndexHash() throws IOException {
        Path resources = builtInModelResources(temp.resolve("classpath"));
        byte[] index = Files.readAllBytes(resources.resolve(DefaultModel.RESOURCE_FOLDER + DefaultModel.INDEX));
        Path home = temp.resolve("home");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {resources.toUri().toURL()}, null)) {
            DefaultModel.Location location = new DefaultModel(home, loader).locate();

            assertFalse(location.demo());
            assertEquals(home.resolve("models/default-" + sha256(index).substring(0, 12)), location.directory());
            Path bundle = TestModels.tinyBundle();
            for (String file : List.of("manifest.json", "denoiser.pt", "tokenizer/vocab.json")) {
                assertArrayEquals(Files.readAllBytes(bundle.resolve(file)),
                        Files.readAllBytes(location.directory().resolve(file)), file);
            }
            // The extracted bundle is a working model.
            Cli.run("tokenize", "--model", location.directory().toString(), "a photo of a cat").succeeded();

            // A second lookup uses the extracted folder as it is.
            Files.writeString(location.directory().resolve("marker"), "kept");
            assertEquals(location.directory(), new DefaultModel(home, loader).locate().directory());
            assertTrue(Files.exists(location.directory().resolve("marker")));
            assertEquals(1, listing(home.resolve("models")).size(), "no staging folders left");
        }
    }

    @Test
    void aFolderAnotherProcessPublishedFirstIsUsed() throws IOException {
        Path resources = builtInModelResources(temp.resolve("classpath"));
        byte[] index = Files.readAllBytes(resources.resolve(DefaultModel.RESOURCE_FOLDER + DefaultModel.INDEX));
        Path home = temp.resolve("home");
        Path theirs = home.resolve("models/default-" + sha256(index).substring(0, 12));
        Files.createDirectories(theirs);
        Files.writeString(theirs.resolve("manifest.json"), "{}");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {resources.toUri().toURL()}, null)) {
            assertEquals(theirs, new DefaultModel(home, loader).locate().directory());
            assertEquals("{}", Files.readString(theirs.resolve("manifest.json")), "theirs, untouched");
        }
    }

    @Test
    void anIndexPathLeavingTheFolderIsRefused() throws IOException {
        Path resources = temp.resolve("classpath");
        Path folder = Files.createDirectories(resources.resolve(DefaultModel.RESOURCE_FOLDER));
        Files.writeString(folder.resolve(DefaultModel.INDEX), "manifest.json\n../../../etc/passwd\n");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {resources.toUri().toURL()}, null)) {
            InstaFlowException e = assertThrows(InstaFlowException.class,
                    () -> new DefaultModel(temp.resolve("home"), loader).locate());
            assertTrue(e.getMessage().contains("../../../etc/passwd"), e.getMessage());
        }
        assertFalse(Files.exists(temp.resolve("home")), "nothing extracted");
    }

    @Test
    void theIndexSkipsBlankLinesAndComments() {
        assertEquals(List.of("manifest.json", "tokenizer/vocab.json"),
                DefaultModel.parseIndex("# files of the bundle\nmanifest.json\r\n\n  tokenizer/vocab.json  \n"));
    }

    /** A classpath folder holding the tiny bundle as the built-in default model, with its files.txt. */
    private static Path builtInModelResources(Path root) throws IOException {
        Path folder = Files.createDirectories(root.resolve(DefaultModel.RESOURCE_FOLDER));
        Path bundle = TestModels.tinyBundle();
        List<String> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(bundle)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator) {
                String relative = bundle.relativize(p).toString().replace('\\', '/');
                files.add(relative);
                Files.createDirectories(folder.resolve(relative).getParent());
                Files.copy(p, folder.resolve(relative));
            }
        }
        Files.writeString(folder.resolve(DefaultModel.INDEX), String.join("\n", files) + "\n", StandardCharsets.UTF_8);
        return root;
    }

    private static List<String> listing(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
