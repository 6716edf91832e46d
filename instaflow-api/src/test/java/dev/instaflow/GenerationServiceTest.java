package dev.instaflow;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The service's queue, batching, cancel, deadline and close, against an engine that runs "steps" of 10 ms. */
@Timeout(30)
class GenerationServiceTest {
    /** An engine whose generations take {@code steps} × 10 ms, honour the monitor, and can be held at a gate. */
    static final class FakeEngine extends TestEngine {
        final List<List<GenerationSettings>> batches = new CopyOnWriteArrayList<>();
        volatile CountDownLatch gate = new CountDownLatch(0);
        final CountDownLatch started = new CountDownLatch(1);
        final AtomicBoolean stoppedEarly = new AtomicBoolean();
        volatile int maxBatch = 16;

        @Override
        ModelInfo info(Path directory) {
            return new ModelInfo(directory, "fake", "instaflow", ModelInfo.Prediction.VELOCITY,
                    Device.cpu(), Precision.FLOAT32,
                    new ModelInfo.Defaults(16, 16, Sampler.euler(), 1, 0.0, ""),
                    new ModelInfo.Limits(8, 64, maxBatch, 100, 77),
                    new ModelInfo.Features(true, false, false), new ModelInfo.Latents(4, 8), Map.of());
        }

        @Override
        List<Generation> generate(List<GenerationSettings> batch, Monitor monitor) {
            batches.add(List.copyOf(batch));
            started.countDown();
            try {
                gate.await();
                for (int step = 0; step < batch.get(0).steps(); step++) {
                    if (monitor.cancelled()) {
                        stoppedEarly.set(true);
                        throw new GenerationCancelledException(
                                new Progress(Progress.Stage.DENOISE, step, batch.get(0).steps()), "cancelled");
                    }
                    Thread.sleep(10);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return batch.stream().map(g -> TestEngine.blank(g, g.steps())).toList();
        }
    }

    final FakeEngine engine = new FakeEngine();
    InstaFlow model;
    GenerationService service;

    InstaFlow model() {
        model = InstaFlow.load(engine, Path.of("fake"), LoadOptions.builder().warmUp(false).build());
        return model;
    }

    @AfterEach
    void close() {
        if (service != null) {
            service.close(Duration.ZERO);
        }
        if (model != null) {
            model.close();
        }
    }

    static GenerationRequest request(long seed) {
        return GenerationRequest.builder().prompt("p" + seed).seed(seed).build();
    }

    @Test
    void concurrentCompatibleRequestsAreCoalescedInOrderAndEachGetsItsOwnSettings() throws Exception {
        engine.gate = new CountDownLatch(1);
        service = GenerationService.builder(model()).maxBatchImages(4).maxQueueDelay(Duration.ofMillis(200)).build();
        CompletableFuture<Generation> blocker = service.submit(request(0));
        assertTrue(engine.started.await(5, TimeUnit.SECONDS));
        List<CompletableFuture<Generation>> futures = new ArrayList<>();
        for (int i = 1; i <= 6; i++) {
            futures.add(service.submit(request(i)));
        }
        // An incompatible request (another size) waits for its own batch.
        CompletableFuture<Generation> big = service.submit(GenerationRequest.builder().prompt("big").seed(99)
                .size(32, 32).build());
        engine.gate.countDown();
        blocker.get();
        for (int i = 0; i < futures.size(); i++) {
            Generation g = futures.get(i).get();
            assertEquals(i + 1, g.settings().seed().getAsLong(), "request " + (i + 1) + " got its own generation");
            assertEquals(List.of("p" + (i + 1)), g.settings().prompts());
        }
        assertEquals(32, big.get().settings().width());
        List<Integer> sizes = engine.batches.stream().map(List::size).toList();
        assertEquals(List.of(1, 4, 2, 1), sizes, "the blocker, then 4 (the limit), the other 2, the 32x32 one");
        GenerationService.Stats s = service.stats();
        assertEquals(8, s.completed());
        assertEquals(4, s.batches());
        assertEquals(4, s.largestBatch());
        assertEquals(Map.of(1, 2L, 2, 1L, 4, 1L), s.batchSizes());
        assertEquals(2.0, s.meanBatchImages(), 1e-9);
        assertEquals(0, s.queued());
    }

    @Test
    void theBatchIsCappedByTheModelsLimit() throws Exception {
        engine.maxBatch = 2;
        engine.gate = new CountDownLatch(1);
        service = GenerationService.builder(model()).maxBatchImages(8).maxQueueDelay(Duration.ofMillis(100)).build();
        assertEquals(2, service.maxBatchImages());
        service.submit(request(0));
        assertTrue(engine.started.await(5, TimeUnit.SECONDS));
        List<CompletableFuture<Generation>> futures = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            futures.add(service.submit(request(i)));
        }
        engine.gate.countDown();
        for (CompletableFuture<Generation> f : futures) {
            f.get();
        }
        assertEquals(List.of(1, 2, 1), engine.batches.stream().map(List::size).toList());
    }

    @Test
    void aFullQueueRejectsAtOnceWithAClearMessage() throws Exception {
        engine.gate = new CountDownLatch(1);
        service = GenerationService.builder(model()).queueCapacity(2).maxBatchImages(1).build();
        service.submit(request(0));
        assertTrue(engine.started.await(5, TimeUnit.SECONDS));
        service.submit(request(1));
        service.submit(request(2));
        RejectedExecutionException e = assertThrows(RejectedExecutionException.class,
                () -> service.submit(request(3)));
        assertTrue(e.getMessage().contains("queue is full (2 requests waiting"), e.getMessage());
        assertEquals(1, service.stats().rejected());
        engine.gate.countDown();
    }

    @Test
    void badRequestsThrowFromSubmit() {
        service = GenerationService.builder(model()).build();
        assertThrows(IllegalArgumentException.class,
                () -> service.submit(GenerationRequest.builder().prompt("x").size(20, 16).build()));
        assertThrows(IllegalArgumentException.class,
                () -> service.submit(GenerationRequest.builder().prompt("x").steps(1000).build()));
        assertEquals(0, service.stats().submitted());
    }

    @Test
    void cancellingAWaitingRequestRemovesItFromTheQueue() throws Exception {
        engine.gate = new CountDownLatch(1);
        service = GenerationService.builder(model()).maxBatchImages(1).build();
        CompletableFuture<Generation> running = service.submit(request(0));
        assertTrue(engine.started.await(5, TimeUnit.SECONDS));
        CompletableFuture<Generation> waiting = service.submit(request(1));
        assertEquals(1, service.stats().queued());
        assertTrue(waiting.cancel(true));
        assertEquals(0, service.stats().queued(), "a cancelled request leaves the queue at once");
        engine.gate.countDown();
        running.get();
        assertEquals(1, engine.batches.size(), "the cancelled request never ran");
        assertEquals(1, service.stats().cancelled());
    }

    @Test
    void cancellingARunningRequestAloneInItsBatchStopsItAtTheNextStep() throws Exception {
        service = GenerationService.builder(model()).build();
        CompletableFuture<Generation> f = service.submit(GenerationRequest.builder().prompt("x").seed(1).steps(100)
                .build());
        assertTrue(engine.started.await(5, TimeUnit.SECONDS));
        Thread.sleep(50);
        f.cancel(true);
        long t0 = System.nanoTime();
        while (service.stats().running() > 0) {
            Thread.sleep(5);
        }
        assertTrue(engine.stoppedEarly.get(), "the engine saw the cancel");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1), "stopped well before its 100 steps (1 s)");
    }

    @Test
    void cancellingOneRequestOfASharedBatchDropsOnlyItsShare() throws Exception {
        engine.gate = new CountDownLatch(1);
        service = GenerationService.builder(model()).maxBatchImages(4).maxQueueDelay(Duration.ofMillis(200)).build();
        CompletableFuture<Generation> a = service.submit(request(1));
        CompletableFuture<Generation> b = service.submit(request(2));
        assertTrue(engine.started.await(5, TimeUnit.SECONDS));
        assertEquals(2, engine.batches.get(0).size());
        a.cancel(true);
        engine.gate.countDown();
        assertEquals(2, b.get().settings().seed().getAsLong());
        assertTrue(a.isCancelled());
        assertFalse(engine.stoppedEarly.get(), "the batch ran to the end for the other request");
    }

    @Test
    void aPassedDeadlineFailsTheFutureWithTimeoutException() throws Exception {
        engine.gate = new CountDownLatch(1);
        service = GenerationService.builder(model()).maxBatchImages(1).build();
        CompletableFuture<Generation> running = service.submit(request(0), Duration.ofMillis(100));
        assertTrue(engine.started.await(5, TimeUnit.SECONDS));
        CompletableFuture<Generation> waiting = service.submit(request(1), Duration.ofMillis(100));
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(5, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("waiting in the queue"), e.getCause().getMessage());
        ExecutionException r = assertThrows(ExecutionException.class, () -> running.get(5, TimeUnit.SECONDS));
        assertTrue(r.getCause().getMessage().contains("while the request was generating"), r.getCause().getMessage());
        engine.gate.countDown();
        while (service.stats().running() > 0) {
            Thread.sleep(5);
        }
        assertEquals(2, service.stats().timedOut());
        assertEquals(1, engine.batches.size(), "the expired waiting request never ran");
    }

    @Test
    void closeDrainsQueuedWorkAndThenRejects() throws Exception {
        engine.gate = new CountDownLatch(1);
        service = GenerationService.builder(model()).maxBatchImages(1).build();
        List<CompletableFuture<Generation>> futures = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            futures.add(service.submit(request(i)));
        }
        engine.gate.countDown();
        service.close();
        for (CompletableFuture<Generation> f : futures) {
            assertTrue(f.isDone() && !f.isCompletedExceptionally(), "drained: " + f);
        }
        RejectedExecutionException e = assertThrows(RejectedExecutionException.class,
                () -> service.submit(request(9)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void closeFailsWhatItCannotDrainInTimeAndNeverHangs() throws Exception {
        engine.gate = new CountDownLatch(1); // never opened: the running batch would block for ever without cancel
        service = GenerationService.builder(model()).maxBatchImages(1).build();
        CompletableFuture<Generation> running = service.submit(request(0));
        assertTrue(engine.started.await(5, TimeUnit.SECONDS));
        CompletableFuture<Generation> queued = service.submit(request(1));
        long t0 = System.nanoTime();
        Thread opener = new Thread(() -> {
            try {
                Thread.sleep(400);
            } catch (InterruptedException ignored) {
                return;
            }
            engine.gate.countDown(); // the engine's forward returns; the monitor then stops the batch
        });
        opener.start();
        service.close(Duration.ofMillis(100));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(12), "bounded");
        ExecutionException q = assertThrows(ExecutionException.class, queued::get);
        assertInstanceOf(RejectedExecutionException.class, q.getCause());
        assertTrue(q.getCause().getMessage().contains("closed before this request ran"), q.getCause().getMessage());
        ExecutionException r = assertThrows(ExecutionException.class, running::get);
        assertTrue(r.getCause().getMessage().contains("closed while this request was running"),
                r.getCause().getMessage());
        opener.join();
    }
}
