package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.GenerationCancelledException;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.Progress;
import dev.instaflow.Progress.Stage;
import dev.instaflow.engine.testing.TinyBundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closing, use after close, progress reporting and cancellation through the public API. */
class ModelLifecycleTest {
    @TempDir
    Path temp;

    private InstaFlow load() {
        return InstaFlow.load(TinyBundle.create(temp.resolve("tiny")), TestSettings.loadOptions());
    }

    private static GenerationRequest fourSteps() {
        return GenerationRequest.builder().prompt("a photo of a cat").seed(1).steps(4).size(32, 32).build();
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseFailsClearly() {
        InstaFlow model = load();
        model.generate(fourSteps());
        model.close();
        assertDoesNotThrow(model::close);
        assertTrue(model.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.generate("a cat"));
        assertTrue(e.getMessage().contains("tiny-sd15") && e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, model::info);
    }

    @Test
    void stageTimingsAddUpToAtMostTheTotal() {
        try (InstaFlow model = load()) {
            Generation g = model.generate(fourSteps());
            long sum = 0;
            for (Stage s : Stage.values()) {
                long ns = g.timings().of(s).toNanos();
                assertTrue(ns >= 0, s + " " + ns);
                sum += ns;
            }
            assertTrue(g.timings().of(Stage.DENOISE).toNanos() > 0, "the sampler took time");
            assertTrue(sum <= g.timings().total().toNanos(), "stages " + sum + " ns > total " + g.timings());
        }
    }

    @Test
    void theListenerSeesEveryStepInOrder() {
        try (InstaFlow model = load()) {
            List<Progress> seen = new ArrayList<>();
            Generation g = model.newCall(fourSteps()).execute(seen::add);
            assertEquals(List.of(new Progress(Stage.TEXT_ENCODER, 0, 4), new Progress(Stage.DENOISE, 1, 4),
                    new Progress(Stage.DENOISE, 2, 4), new Progress(Stage.DENOISE, 3, 4),
                    new Progress(Stage.DENOISE, 4, 4), new Progress(Stage.DECODE, 0, 4)), seen);
            assertEquals(1, g.images().size());
        }
    }

    @Test
    void aListenerCancelsAndTheModelStaysUsable() {
        try (InstaFlow model = load()) {
            dev.instaflow.GenerationCall call = model.newCall(fourSteps());
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> call.execute(p -> {
                        if (p.step() >= 1) {
                            call.cancel();
                        }
                    }));
            assertEquals(new Progress(Stage.DENOISE, 1, 4), e.progress(), "stopped after step 1: step 2 never ran");
            Generation after = model.generate(fourSteps());
            assertEquals(4, after.denoiserEvaluations());
        }
    }

    @Test
    void anExceptionFromTheListenerPassesThroughUnchanged() {
        try (InstaFlow model = load()) {
            IllegalStateException mine = new IllegalStateException("mine");
            IllegalStateException thrown = assertThrows(IllegalStateException.class,
                    () -> model.newCall(fourSteps()).execute(p -> {
                        throw mine;
                    }));
            assertSame(mine, thrown);
        }
    }

    @Test
    void closingFromInsideAListenerIsRefused() {
        InstaFlow model = load();
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.newCall(fourSteps())
                    .execute(p -> model.close()));
            assertTrue(e.getMessage().contains("inside generate"), e.getMessage());
        } finally {
            model.close();
        }
    }

    @Test
    void closeWaitsForRunningGenerations() throws Exception {
        InstaFlow model = load();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Thread worker = new Thread(() -> model.newCall(fourSteps()).execute(p -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        worker.start();
        started.await();
        Thread closer = new Thread(model::close);
        closer.start();
        closer.join(300);
        assertTrue(closer.isAlive(), "close waits while a generation runs");
        release.countDown();
        worker.join();
        closer.join(10_000);
        assertTrue(model.isClosed());
    }
}
