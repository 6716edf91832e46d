package dev.instaflow.engine.runtime;

import dev.instaflow.Device;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.RuntimeSettings;
import dev.instaflow.engine.testing.TinyBundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A generation does not fault its activations in afresh on every call (glibc keeps LibTorch's freed buffers,
 * {@link NativeHeap}). Run in fresh JVMs, because the tuning is applied once per process when the natives load:
 * the tiny TorchScript bundle at batch 8, where untuned glibc faults ~20,000 pages per call on this project's
 * machines (docs/performance.md, "Page faults between calls").
 */
class NativeHeapTest {
    @TempDir
    Path temp;

    /** Fresh JVM: prints the tuning state and the median minor page faults of batch-8 calls 4..9. */
    public static void main(String[] args) throws Exception {
        InstaFlow.configure(RuntimeSettings.defaults().withThreads(1));
        try (InstaFlow model = InstaFlow.load(Path.of(args[0]), LoadOptions.builder().device(Device.cpu()).build())) {
            List<String> prompts = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                prompts.add("a cat " + i);
            }
            List<Long> faults = new ArrayList<>();
            for (int call = 0; call < 10; call++) {
                long before = minorFaults();
                model.generate(GenerationRequest.builder().prompts(prompts).seed(call).build());
                if (call >= 4) {
                    faults.add(minorFaults() - before);
                }
            }
            Collections.sort(faults);
            System.out.println("state=" + NativeHeap.state() + " faults=" + faults.get(faults.size() / 2));
        }
    }

    static long minorFaults() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[7]); // field 10: minflt
    }

    @Test
    void repeatedGenerationsReuseTheirMemory() throws Exception {
        Path bundle = TinyBundle.create(temp.resolve("tiny"));
        String tuned = run(bundle, List.of());
        String untuned = run(bundle, List.of("-D" + NativeHeap.PROPERTY + "=false"));
        System.out.println("batch-8 calls, median minor faults: tuned " + tuned + "; untuned " + untuned);
        assertTrue(tuned.startsWith("state=APPLIED "), tuned);
        assertTrue(untuned.startsWith("state=TURNED_OFF "), untuned);
        long faults = Long.parseLong(tuned.substring(tuned.indexOf("faults=") + 7));
        assertTrue(faults < 2000, "a batch-8 call faulted " + faults + " pages (8 MB) in; expected the freed"
                + " buffers of the last call to be reused");
    }

    @Test
    void theEnvironmentsOwnMallocSettingsAreLeftAlone() {
        assertEquals(java.util.Optional.of(NativeHeap.State.LEFT_TO_ENVIRONMENT),
                NativeHeap.reasonToLeaveAlone(java.util.Map.of("MALLOC_TRIM_THRESHOLD_", "1")));
        assertEquals(java.util.Optional.of(NativeHeap.State.LEFT_TO_ENVIRONMENT),
                NativeHeap.reasonToLeaveAlone(java.util.Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")));
    }

    private static String run(Path bundle, List<String> properties) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-cp", System.getProperty("java.class.path")));
        command.addAll(properties);
        command.addAll(List.of(NativeHeapTest.class.getName(), bundle.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("MALLOC_") || k.equals("GLIBC_TUNABLES"));
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        return out.lines().filter(l -> l.startsWith("state=")).findFirst().orElseThrow(() -> new AssertionError(out));
    }
}
