package dev.instaflow.samples.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's first command in a fresh JVM, with the process's real stderr (LibTorch writes its warnings to file
 * descriptor 2, which an in-process test cannot capture): nothing but the result may be printed. On a machine where
 * NNPACK cannot initialise, LibTorch printed "Could not initialize NNPACK! Reason: Unsupported hardware." before
 * every convolution (22 lines for one image).
 */
class QuietNativesTest {
    @TempDir
    Path temp;

    @Test
    void generateWithTheDefaultModelPrintsNothingOnStderr() throws IOException, InterruptedException {
        Path out = temp.resolve("circle.png");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Dinstaflow.home=" + temp.resolve("home"),
                "-cp", System.getProperty("java.class.path"), InstaFlowCli.class.getName(),
                "generate", "--prompt", "a yellow circle on a blue background", "--seed", "2",
                "--threads", TestModels.threads(), "--out", out.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(temp.resolve("stdout.txt").toFile())
                .redirectError(temp.resolve("stderr.txt").toFile());
        builder.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        Process process = builder.start();
        assertTrue(process.waitFor(3, TimeUnit.MINUTES), "generate did not finish in 3 minutes");
        String stdout = Files.readString(temp.resolve("stdout.txt"), StandardCharsets.UTF_8);
        String stderr = Files.readString(temp.resolve("stderr.txt"), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), () -> stdout + stderr);
        assertEquals("", stderr, "stderr of the README's generate command");
        assertTrue(stdout.startsWith("wrote " + out), stdout);
    }
}
