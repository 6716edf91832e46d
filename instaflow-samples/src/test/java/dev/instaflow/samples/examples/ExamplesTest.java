package dev.instaflow.samples.examples;

import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.samples.cli.TestModels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The example programs run as documented, on the tiny bundle the CLI tests make. */
class ExamplesTest {
    @TempDir
    Path temp;

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private PrintStream originalOut;

    @BeforeAll
    static void oneThread() {
        // The examples load with LoadOptions.defaults(); LibTorch's thread count is process-wide, so pin it here
        // to what Maven asks tests to use (1 on the shared 2-core machine).
        TorchRuntime.setIntraOpThreads(Integer.parseInt(System.getProperty("instaflow.test.threads", "1")));
    }

    @BeforeEach
    void captureStdout() {
        originalOut = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreStdout() {
        System.setOut(originalOut);
    }

    private String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    @Test
    void quickStartWritesOneImage() throws IOException {
        Path out = temp.resolve("fox.png");
        QuickStart.main(new String[] {TestModels.tinyBundle().toString(), out.toString()});
        assertEquals(32, ImageIO.read(out.toFile()).getWidth());
        assertTrue(printed().contains("wrote " + out), printed());
    }

    @Test
    void theReadmeExampleLoadsTheDefaultModelAndPrintsThePlainSeed() throws IOException {
        String previous = System.getProperty("instaflow.home");
        System.setProperty("instaflow.home", temp.resolve("home").toString());
        try {
            ReadmeExample.main(new String[] {temp.toString()});
        } finally {
            if (previous == null) {
                System.clearProperty("instaflow.home");
            } else {
                System.setProperty("instaflow.home", previous);
            }
        }
        assertEquals(32, ImageIO.read(temp.resolve("square.png").toFile()).getWidth(), "the default model's 32x32");
        assertTrue(Files.isRegularFile(temp.resolve("circle.png")));
        assertTrue(printed().startsWith("seed 42, "), "the seed as a number, not OptionalLong[42]: " + printed());
    }

    @Test
    void batchGenerationWritesEachPromptsImagesAndReportsTheSeed() throws IOException {
        BatchGeneration.main(new String[] {TestModels.tinyBundle().toString(), temp.toString()});
        for (String name : new String[] {"prompt0-image0.png", "prompt0-image1.png", "prompt1-image0.png",
            "prompt1-image1.png"}) {
            assertTrue(Files.isRegularFile(temp.resolve(name)), name + "\n" + printed());
        }
        assertTrue(printed().contains("seed 42, 32x32"), printed());
        assertTrue(printed().contains("\"a lighthouse at dusk\": 4 tokens"), printed());
        assertTrue(printed().contains("total"), printed());
    }

    @Test
    void imageToImageWritesThreeStrengthsAndAnInpaintedImage() throws IOException {
        ImageToImage.main(new String[] {TestModels.tinySd15Snapshot().toString(), temp.toString()});
        for (String name : new String[] {"strength-0.3.png", "strength-0.6.png", "strength-1.0.png",
            "inpainted.png"}) {
            assertEquals(32, ImageIO.read(temp.resolve(name).toFile()).getWidth(), name + "\n" + printed());
        }
        assertTrue(printed().contains("(strength 0.3, 1 denoiser call(s))"), printed());
        assertTrue(printed().contains("(strength 1.0, masked true)"), printed());
    }

    @Test
    void imageToImageSaysWhatAModelWithoutAnEncoderLacks() throws IOException {
        ImageToImage.main(new String[] {TestModels.tinyBundle().toString(), temp.toString()});
        assertTrue(printed().contains("has no VAE encoder"), printed());
    }

    @Test
    void progressAndCancelReportsStepsAndFinishesWithinAGenerousDeadline() {
        ProgressAndCancel.main(new String[] {TestModels.tinyBundle().toString(), "600000", "3"});
        assertTrue(printed().contains("text_encoder done"), printed());
        assertTrue(printed().contains("step 3/3"), printed());
        assertTrue(printed().contains("finished within 600000 ms"), printed());
    }

    @Test
    void progressAndCancelCancelsAtAPassedDeadline() {
        ProgressAndCancel.main(new String[] {TestModels.tinyBundle().toString(), "0", "3"});
        assertTrue(printed().contains("cancelled after 0 ms, at text_encoder"), printed());
        assertFalse(printed().contains("step 1/3"), "stopped at the first report: " + printed());
    }
}
