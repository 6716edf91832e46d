package dev.instaflow.engine;

import dev.instaflow.engine.testing.NetworkProbe;
import dev.instaflow.engine.testing.TinyBundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loading a bundle and generating opens no connection (issue 10: DJL's telemetry made 4 connections to
 * 169.254.169.254:80 on every load). Each check runs {@link NetworkProbe} in a fresh JVM, with the environment's
 * own DJL settings removed, and counts every URL connection and socket connect that JVM attempts. A control run
 * with tracking explicitly enabled shows the probe sees DJL's call home.
 */
class NoNetworkTest {
    @TempDir
    Path temp;

    @Test
    void loadingAndGeneratingOpensNoConnection() throws Exception {
        Path bundle = TinyBundle.create(temp.resolve("bundle"));
        List<String> out = probe(List.of(), bundle.toString());
        assertEquals("ATTEMPTS 0", out.get(out.size() - 1), String.join("\n", out));
    }

    @Test
    void theProbeSeesDjlsTelemetryWhenTrackingIsEnabled() throws Exception {
        Path bundle = TinyBundle.create(temp.resolve("bundle"));
        List<String> out = probe(List.of("-DOPT_OUT_TRACKING=false"), "--tokenizer-only",
                bundle.resolve("tokenizer").toString());
        String last = out.get(out.size() - 1);
        assertTrue(last.startsWith("ATTEMPTS ") && !last.equals("ATTEMPTS 0"), String.join("\n", out));
        assertTrue(out.stream().anyMatch(l -> l.contains("169.254.169.254")), String.join("\n", out));
    }

    private static List<String> probe(List<String> jvmOptions, String... args) throws IOException,
            InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.addAll(jvmOptions);
        command.add(NetworkProbe.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        for (String variable : new String[] {"OPT_OUT_TRACKING", "DJL_OFFLINE", "RUST_FLAVOR"}) {
            pb.environment().remove(variable);
        }
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        byte[] output = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the probe did not finish");
        List<String> lines = new String(output, StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("ATTEMPT") || l.contains("Exception") || l.startsWith("\tat "))
                .toList();
        assertEquals(0, p.exitValue(), String.join("\n", lines));
        return lines;
    }
}
