package dev.instaflow.engine;

import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.engine.testing.TinyBundle;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many generations leave nothing on the native heap: every JavaCPP object a generation makes is released when its
 * scope closes (so JavaCPP's count of live native objects returns to the same value after each call), and the
 * process's resident memory stays flat.
 */
class NativeMemoryTest {
    @TempDir
    Path temp;

    @Test
    void nativeMemoryStaysFlatOverManyGenerations() {
        try (InstaFlow model = InstaFlow.load(TinyBundle.create(temp.resolve("tiny")), TestSettings.loadOptions())) {
            // Guidance doubles the UNet batch; its attention maps are ~1 MB, so one leaked activation per call would
            // add hundreds of MB over the run.
            GenerationRequest request = GenerationRequest.builder().prompt("a photo of a cat")
                    .steps(1).guidance(1.5).size(32, 32).seed(3).build();
            for (int i = 0; i < 10; i++) {
                model.generate(request);
            }
            // The count of live JavaCPP objects only falls asynchronously (objects other tests left to the garbage
            // collector are deallocated on JavaCPP's own thread), so the invariant is: a generation never adds any.
            long liveObjects = Pointer.totalCount();
            long rssBefore = Pointer.physicalBytes();
            int generations = 200;
            for (int i = 0; i < generations; i++) {
                model.generate(request);
                long now = Pointer.totalCount();
                assertTrue(now <= liveObjects, "generation " + i + " left " + (now - liveObjects)
                        + " JavaCPP object(s) alive");
                liveObjects = now;
            }
            System.gc();
            long growth = Pointer.physicalBytes() - rssBefore;
            System.out.printf("native memory: %d generations, live JavaCPP objects %d -> %d, RSS growth %.1f MiB%n",
                    generations, liveObjects, Pointer.totalCount(), growth / 1048576.0);
            assertTrue(growth < 48L << 20, "resident memory grew by " + (growth >> 20) + " MiB over " + generations
                    + " generations");
        }
    }
}
