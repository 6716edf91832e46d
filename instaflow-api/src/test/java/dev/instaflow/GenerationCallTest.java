package dev.instaflow;

import dev.instaflow.spi.Engine;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cancel handle: another thread (or the listener) cancels; the engine sees it through its monitor. */
class GenerationCallTest {
    /** An engine that reports {@code steps} denoise steps, asking its monitor before each, as the real one does. */
    static final class SteppingEngine extends TestEngine {
        final CountDownLatch firstStep = new CountDownLatch(1);
        final CountDownLatch mayContinue = new CountDownLatch(1);
        final List<Progress> seen = new ArrayList<>();

        @Override
        ModelInfo info(Path directory) {
            return new ModelInfoFixture().defaultSteps(4).build();
        }

        @Override
        List<Generation> generate(List<GenerationSettings> batch, Engine.Monitor monitor) {
            int steps = batch.get(0).steps();
            for (int step = 1; step <= steps; step++) {
                Progress p = new Progress(Progress.Stage.DENOISE, step, steps);
                if (monitor.cancelled()) {
                    throw new GenerationCancelledException(p, "cancelled by the caller");
                }
                seen.add(p);
                monitor.progress(p);
                firstStep.countDown();
                await(mayContinue);
            }
            return batch.stream().map(g -> TestEngine.blank(g, steps)).toList();
        }

        private static void await(CountDownLatch latch) {
            try {
                latch.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void anotherThreadCancelsARunningCallAtItsNextStep() throws Exception {
        SteppingEngine engine = new SteppingEngine();
        try (InstaFlow model = InstaFlow.load(engine, Path.of("m"), LoadOptions.defaults())) {
            GenerationCall call = model.newCall(GenerationRequest.of("a"));
            Thread canceller = new Thread(() -> {
                try {
                    engine.firstStep.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    return;
                }
                call.cancel();
                engine.mayContinue.countDown();
            });
            canceller.start();
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class, call::execute);
            canceller.join();
            assertEquals(2, e.progress().step(), "stopped before step 2, after step 1 ran");
            assertEquals(1, engine.seen.size());
            assertTrue(call.isCancelled());
        }
    }

    @Test
    void theListenerCanCancelAndACallRunsOnce() {
        SteppingEngine engine = new SteppingEngine();
        engine.mayContinue.countDown();
        try (InstaFlow model = InstaFlow.load(engine, Path.of("m"), LoadOptions.defaults())) {
            GenerationCall call = model.newCall(GenerationRequest.of("a"));
            assertThrows(GenerationCancelledException.class, () -> call.execute(p -> call.cancel()));
            assertThrows(IllegalStateException.class, call::execute, "a call executes once");

            GenerationRequest request = GenerationRequest.builder().prompt("b").seed(3).build();
            GenerationCall done = model.newCall(request);
            List<Progress> progress = new ArrayList<>();
            Generation g = done.execute(progress::add);
            assertSame(request, done.request(), "the call exposes the request it runs");
            assertEquals(4, progress.size());
            assertEquals(3, g.settings().seed().getAsLong());
        }
    }

    @Test
    void aCallCancelledBeforeItStartsDoesNoWork() {
        SteppingEngine engine = new SteppingEngine();
        try (InstaFlow model = InstaFlow.load(engine, Path.of("m"), LoadOptions.defaults())) {
            GenerationCall call = model.newCall(GenerationRequest.of("a"));
            call.cancel();
            assertThrows(GenerationCancelledException.class, call::execute);
            assertEquals(0, engine.seen.size());
        }
    }
}
