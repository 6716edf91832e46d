package dev.instaflow.engine.runtime;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JavaCPP refuses native objects once resident memory passes twice the Java heap limit; the SDK lifts that ceiling
 * (full-size weights are native memory), unless the application set it. Checked in fresh JVMs with a 64 MB heap,
 * where JavaCPP's default ceiling would be 128 MB.
 */
class PhysicalMemoryCeilingTest {
    /** Run in a fresh JVM: loads the natives through the SDK and prints JavaCPP's ceiling. */
    public static void main(String[] args) {
        TorchRuntime.ensureLoaded();
        System.out.println("maxPhysicalBytes=" + Pointer.maxPhysicalBytes());
    }

    @Test
    void theSdkLiftsTheCeiling() throws Exception {
        assertEquals("maxPhysicalBytes=0", run(List.of()));
    }

    @Test
    void anApplicationsOwnSettingIsKept() throws Exception {
        assertEquals("maxPhysicalBytes=3000000000", run(List.of("-Dorg.bytedeco.javacpp.maxPhysicalBytes=3000000000")));
    }

    private static String run(List<String> properties) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new java.util.ArrayList<>(List.of(java.toString(), "-Xmx64m", "-cp",
                System.getProperty("java.class.path")));
        command.addAll(properties);
        command.add(PhysicalMemoryCeilingTest.class.getName());
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        return out.lines().filter(l -> l.startsWith("maxPhysicalBytes=")).findFirst().orElse(out);
    }
}
