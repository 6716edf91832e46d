package dev.instaflow;

import dev.instaflow.spi.Engine;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Asynchronous generation with dynamic micro-batching: requests submitted from any number of threads wait in a
 * bounded queue, and worker threads run compatible ones ({@link GenerationSettings#canBatchWith the same size,
 * sampler, steps and guidance}, no init image) together as one batch of at most {@link Builder#maxBatchImages}
 * images, waiting at most {@link Builder#maxQueueDelay} after the oldest for more to arrive. Each request keeps its
 * own prompts, negative prompt and seed (a missing seed is drawn at submit), so its images are the images it gets
 * alone, up to floating-point rounding of batched kernels (see {@code docs/serving.md}).
 *
 * <pre>{@code
 * try (InstaFlow model = InstaFlow.load(dir);
 *      GenerationService service = GenerationService.builder(model).maxBatchImages(8)
 *              .maxQueueDelay(Duration.ofMillis(10)).build()) {
 *     CompletableFuture<Generation> cat = service.submit(GenerationRequest.of("a cat"));
 *     CompletableFuture<Generation> dog = service.submit(GenerationRequest.of("a dog"));
 *     ImageIO.write(cat.join().image(), "png", file);
 * }
 * }</pre>
 *
 * <p><b>Failures.</b> {@link #submit} resolves the request at once and <em>throws</em>: {@link IllegalArgumentException}
 * for a value the model does not accept, {@link RejectedExecutionException} when the queue is full or the service is
 * closed. The future then fails with {@link TimeoutException} when the request's deadline passes (waiting or
 * running), with the engine's exception ({@link InferenceException} ...) when its batch fails, and with
 * {@link RejectedExecutionException} when {@link #close()} gives up on it. <b>Cancel.</b>
 * {@code future.cancel(true)} removes a waiting request; a running request alone in its batch stops at the next
 * sampler step, one sharing its batch has its share dropped (the others' run completes). A passed deadline acts the
 * same way. <b>Threads.</b> {@link Builder#workers} worker threads (default 1: one per device stream); futures
 * complete on them, so keep dependent actions short or use the {@code *Async} variants. The service does not own
 * the model: close the service first, then the model.
 */
public final class GenerationService implements AutoCloseable {
    private static final int WINDOW = 1024;

    private final InstaFlow model;
    private final int maxBatchImages;
    private final long maxDelayNanos;
    private final int queueCapacity;
    private final Optional<Duration> defaultDeadline;
    private final Duration drainTimeout;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final List<Thread> workers = new ArrayList<>();
    private final ScheduledExecutorService timer;
    private boolean closed;
    private boolean abandon; // close() gave up draining: workers stop taking work

    // Counters, guarded by lock.
    private int running;
    private long submitted;
    private long completed;
    private long failed;
    private long rejected;
    private long cancelled;
    private long timedOut;
    private long batches;
    private long batchedImages;
    private int largestBatch;
    private final TreeMap<Integer, Long> batchSizes = new TreeMap<>();
    private long queueWaitNanos;
    private long latencyNanos;
    private final long[] recentWaits = new long[WINDOW];
    private final long[] recentLatencies = new long[WINDOW];
    private long recentCount;

    private GenerationService(Builder b) {
        this.model = b.model;
        this.maxBatchImages = Math.max(1, Math.min(b.maxBatchImages, model.info().limits().maxBatch()));
        this.maxDelayNanos = b.maxQueueDelay.toNanos();
        this.queueCapacity = b.queueCapacity;
        this.defaultDeadline = b.deadline;
        this.drainTimeout = b.drainTimeout;
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread thread = new Thread(r, "instaflow-service-deadlines");
            thread.setDaemon(true);
            return thread;
        });
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        for (int i = 0; i < b.workers; i++) {
            Thread worker = new Thread(this::work, "instaflow-service-worker-" + i);
            worker.setDaemon(true);
            workers.add(worker);
        }
        workers.forEach(Thread::start);
    }

    /** A builder of a service over {@code model}. */
    public static Builder builder(InstaFlow model) {
        return new Builder(model);
    }

    /** The largest batch this service runs: {@link Builder#maxBatchImages} capped by the model's limit. */
    public int maxBatchImages() {
        return maxBatchImages;
    }

    /** Queues {@code request} with the service's default deadline; see {@link #submit(GenerationRequest, Duration)}. */
    public CompletableFuture<Generation> submit(GenerationRequest request) {
        return submit(request, defaultDeadline.orElse(null));
    }

    /**
     * Queues {@code request}; its future completes with its generation once its batch ran.
     *
     * @param deadline how long the request may take from now (waiting and running) before its future fails with
     *                 {@link TimeoutException}; {@code null} for none
     * @throws IllegalArgumentException   if a request value is outside what the model accepts
     * @throws RejectedExecutionException if the queue is full (retry later) or the service is closed
     * @throws IllegalStateException      if the model is closed
     */
    public CompletableFuture<Generation> submit(GenerationRequest request, Duration deadline) {
        Objects.requireNonNull(request, "request");
        if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
            throw new IllegalArgumentException("deadline must be positive, got " + deadline);
        }
        GenerationSettings settings = model.resolve(request);
        if (model.isClosed()) {
            throw new IllegalStateException("model '" + model.info().name() + "' is closed");
        }
        Pending p = new Pending(settings, System.nanoTime());
        lock.lock();
        try {
            if (closed) {
                rejected++;
                throw new RejectedExecutionException("the generation service is closed; no new requests are taken");
            }
            if (queue.size() >= queueCapacity) {
                rejected++;
                throw new RejectedExecutionException("the generation queue is full (" + queueCapacity
                        + " requests waiting, " + running + " running); retry later");
            }
            queue.addLast(p);
            submitted++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        p.future.whenComplete((g, e) -> finished(p, e));
        if (deadline != null) {
            p.timeout = timer.schedule(() -> p.future.completeExceptionally(new TimeoutException("the deadline of "
                    + deadline.toMillis() + " ms passed while the request was "
                    + (p.started ? "generating" : "waiting in the queue"))), deadline.toNanos(), TimeUnit.NANOSECONDS);
        }
        return p.future;
    }

    /** Counts, by outcome, once per future: cancelled and timed-out requests leave the queue at once. */
    private void finished(Pending p, Throwable e) {
        if (p.timeout != null) {
            p.timeout.cancel(false);
        }
        long now = System.nanoTime();
        lock.lock();
        try {
            if (!p.started) {
                queue.remove(p);
                changed.signalAll();
            }
            if (e == null) {
                completed++;
                long latency = now - p.submitted;
                latencyNanos += latency;
                queueWaitNanos += p.waited;
                int i = (int) (recentCount++ % WINDOW);
                recentWaits[i] = p.waited;
                recentLatencies[i] = latency;
            } else if (e instanceof CancellationException) {
                cancelled++;
            } else if (e instanceof TimeoutException) {
                timedOut++;
            } else {
                failed++;
            }
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        while (true) {
            List<Pending> batch = nextBatch();
            if (batch == null) {
                return;
            }
            if (!batch.isEmpty()) {
                run(batch);
            }
        }
    }

    /**
     * The next batch: the oldest wanted request and the compatible ones behind it, in order, up to the image limit;
     * waits until the batch is full or the oldest has waited the maximum delay. {@code null} when the worker is to
     * stop; an empty list when every request taken was withdrawn meanwhile.
     */
    private List<Pending> nextBatch() {
        lock.lock();
        try {
            while (queue.isEmpty() && !closed) {
                changed.awaitUninterruptibly();
            }
            if (queue.isEmpty() || abandon) {
                return null;
            }
            // Taken requests count as running from here on, so close() never sees a batch being assembled as idle.
            Pending head = queue.pollFirst();
            List<Pending> batch = new ArrayList<>();
            take(head, batch);
            int images = head.settings.batchSize();
            while (true) {
                for (Iterator<Pending> it = queue.iterator(); it.hasNext() && images < maxBatchImages; ) {
                    Pending p = it.next();
                    if (p.settings.canBatchWith(head.settings) && images + p.settings.batchSize() <= maxBatchImages) {
                        it.remove();
                        take(p, batch);
                        images += p.settings.batchSize();
                    }
                }
                long left = head.submitted + maxDelayNanos - System.nanoTime();
                if (images >= maxBatchImages || closed || left <= 0) {
                    break;
                }
                try {
                    changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            long now = System.nanoTime();
            for (Iterator<Pending> it = batch.iterator(); it.hasNext(); ) {
                Pending p = it.next();
                if (p.future.isDone()) { // cancelled or timed out while the batch was assembled
                    it.remove();
                    inFlight.remove(p);
                    running--;
                }
            }
            int taken = 0;
            for (Pending p : batch) {
                p.waited = now - p.submitted;
                taken += p.settings.batchSize();
            }
            if (!batch.isEmpty()) {
                batches++;
                batchedImages += taken;
                largestBatch = Math.max(largestBatch, taken);
                batchSizes.merge(taken, 1L, Long::sum);
            }
            changed.signalAll();
            return batch;
        } finally {
            lock.unlock();
        }
    }

    /** Moves {@code p} from the queue into {@code batch}; under the lock. */
    private void take(Pending p, List<Pending> batch) {
        p.started = true;
        batch.add(p);
        inFlight.add(p);
        running++;
    }

    private void run(List<Pending> batch) {
        try {
            List<Generation> out = model.runBatch(batch.stream().map(p -> p.settings).toList(), new Engine.Monitor() {
                @Override
                public void progress(Progress progress) {
                }

                @Override
                public boolean cancelled() {
                    // Stops the batch once nobody wants any of it (cancelled, timed out, or given up by close).
                    return batch.stream().allMatch(p -> p.future.isDone());
                }
            });
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).future.complete(out.get(i));
            }
        } catch (RuntimeException | Error e) {
            // The worker lives on: a failed batch (an engine error, even an Error) fails only its own requests.
            for (Pending p : batch) {
                p.future.completeExceptionally(e);
            }
        } finally {
            inFlight.removeAll(batch);
            lock.lock();
            try {
                running -= batch.size();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** A snapshot of the queue and counters. */
    public Stats stats() {
        lock.lock();
        try {
            int n = (int) Math.min(recentCount, WINDOW);
            long[] waits = Arrays.copyOf(recentWaits, n);
            long[] latencies = Arrays.copyOf(recentLatencies, n);
            Arrays.sort(waits);
            Arrays.sort(latencies);
            return new Stats(queue.size(), running, submitted, completed, failed, rejected, cancelled, timedOut,
                    batches, batchedImages, largestBatch, Collections.unmodifiableMap(new TreeMap<>(batchSizes)),
                    Duration.ofNanos(queueWaitNanos), Duration.ofNanos(latencyNanos),
                    percentile(waits, 0.5), percentile(waits, 0.99),
                    percentile(latencies, 0.5), percentile(latencies, 0.99));
        } finally {
            lock.unlock();
        }
    }

    private static Duration percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Duration.ZERO;
        }
        return Duration.ofNanos(sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)]);
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** Closes with the builder's {@link Builder#drainTimeout drain timeout}; see {@link #close(Duration)}. */
    @Override
    public void close() {
        close(drainTimeout);
    }

    /**
     * Stops taking requests ({@link #submit} throws {@link RejectedExecutionException}) and runs what is queued for
     * at most {@code drainTimeout}; then fails every request still waiting or running with
     * {@link RejectedExecutionException} (a running batch stops at its next step) and waits a further bounded
     * moment for the workers. Returns within about {@code drainTimeout} plus one sampler step; idempotent.
     * {@link Duration#ZERO} fails queued work at once and lets only running batches stop.
     */
    public void close(Duration drainTimeout) {
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        if (workers.contains(Thread.currentThread())) {
            throw new IllegalStateException("close() called on a worker thread (from a future's callback?);"
                    + " close from another thread");
        }
        List<Pending> given = new ArrayList<>();
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
            long left = drainTimeout.toNanos();
            while ((!queue.isEmpty() || running > 0) && left > 0) {
                try {
                    left = changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            abandon = true;
            given.addAll(queue);
            queue.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        RejectedExecutionException notRun = new RejectedExecutionException("the generation service was closed"
                + " before this request ran (drain timeout " + drainTimeout.toMillis() + " ms)");
        for (Pending p : given) {
            p.started = true; // already out of the queue
            p.future.completeExceptionally(notRun);
        }
        // Running batches: their monitors see every future done and stop at the next step.
        for (Pending p : runningRequests()) {
            p.future.completeExceptionally(new RejectedExecutionException("the generation service was closed while"
                    + " this request was running (drain timeout " + drainTimeout.toMillis() + " ms)"));
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Thread worker : workers) {
            long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()));
            try {
                worker.join(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        timer.shutdownNow();
    }

    private final List<Pending> inFlight = Collections.synchronizedList(new ArrayList<>());

    private List<Pending> runningRequests() {
        synchronized (inFlight) {
            return new ArrayList<>(inFlight);
        }
    }

    @Override
    public String toString() {
        Stats s = stats();
        return "GenerationService{" + model + ", max batch " + maxBatchImages + ", queued " + s.queued()
                + ", running " + s.running() + (isClosed() ? ", closed" : "") + '}';
    }

    /** A queued or running request. */
    private final class Pending {
        final GenerationSettings settings;
        final long submitted;
        final CompletableFuture<Generation> future = new CompletableFuture<>();
        volatile boolean started;
        long waited;
        volatile ScheduledFuture<?> timeout;

        Pending(GenerationSettings settings, long submitted) {
            this.settings = settings;
            this.submitted = submitted;
        }
    }

    /**
     * A snapshot of a service's queue and counters. Counts are since the service was built; each submitted request
     * ends as exactly one of completed, failed, cancelled or timed out. Durations of completed requests: queue wait
     * (submit to batch start) and latency (submit to completion); percentiles over the last 1024.
     *
     * @param queued          requests waiting now
     * @param running         requests in running batches now
     * @param submitted       requests accepted
     * @param completed       requests whose future completed with a generation
     * @param failed          requests whose batch failed (or that close gave up on)
     * @param rejected        submits refused (queue full or closed)
     * @param cancelled       requests cancelled by their caller
     * @param timedOut        requests whose deadline passed
     * @param batches         batches run
     * @param batchedImages   images in those batches (their sum of sizes)
     * @param largestBatch    the largest batch in images
     * @param batchSizes      how many batches had each size in images
     * @param queueWaitTotal  summed queue wait of completed requests
     * @param latencyTotal    summed latency of completed requests
     */
    public record Stats(int queued, int running, long submitted, long completed, long failed, long rejected,
                        long cancelled, long timedOut, long batches, long batchedImages, int largestBatch,
                        Map<Integer, Long> batchSizes, Duration queueWaitTotal, Duration latencyTotal,
                        Duration queueWaitP50, Duration queueWaitP99, Duration latencyP50, Duration latencyP99) {
        public Stats {
            batchSizes = Collections.unmodifiableMap(new TreeMap<>(batchSizes));
        }

        /** The mean batch size in images; 0 before the first batch. */
        public double meanBatchImages() {
            return batches == 0 ? 0 : (double) batchedImages / batches;
        }
    }

    /** Settings of a {@link GenerationService}. */
    public static final class Builder {
        private final InstaFlow model;
        private int maxBatchImages = 8;
        private Duration maxQueueDelay = Duration.ofMillis(5);
        private int queueCapacity = 256;
        private int workers = 1;
        private Optional<Duration> deadline = Optional.empty();
        private Duration drainTimeout = Duration.ofSeconds(30);

        private Builder(InstaFlow model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** The most images in one batch (default 8; capped by the model's limit). 1 turns batching off. */
        public Builder maxBatchImages(int images) {
            if (images < 1) {
                throw new IllegalArgumentException("maxBatchImages must be at least 1, got " + images);
            }
            this.maxBatchImages = images;
            return this;
        }

        /** How long the oldest waiting request may wait for others to fill its batch (default 5 ms; 0: no wait). */
        public Builder maxQueueDelay(Duration delay) {
            if (delay.isNegative()) {
                throw new IllegalArgumentException("maxQueueDelay must not be negative, got " + delay);
            }
            this.maxQueueDelay = delay;
            return this;
        }

        /** How many requests may wait (default 256); a submit beyond it is rejected. */
        public Builder queueCapacity(int capacity) {
            if (capacity < 1) {
                throw new IllegalArgumentException("queueCapacity must be at least 1, got " + capacity);
            }
            this.queueCapacity = capacity;
            return this;
        }

        /** Worker threads, each running one batch at a time (default 1: one per device stream). */
        public Builder workers(int workers) {
            if (workers < 1) {
                throw new IllegalArgumentException("workers must be at least 1, got " + workers);
            }
            this.workers = workers;
            return this;
        }

        /** The deadline of a request submitted without one (default none). */
        public Builder deadline(Duration deadline) {
            if (deadline.isNegative() || deadline.isZero()) {
                throw new IllegalArgumentException("deadline must be positive, got " + deadline);
            }
            this.deadline = Optional.of(deadline);
            return this;
        }

        /** How long {@link GenerationService#close()} runs queued work before failing it (default 30 s). */
        public Builder drainTimeout(Duration timeout) {
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("drainTimeout must not be negative, got " + timeout);
            }
            this.drainTimeout = timeout;
            return this;
        }

        public GenerationService build() {
            return new GenerationService(this);
        }
    }
}
