package dev.instaflow;

import dev.instaflow.spi.Engine;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One request, ready to run on the model that made it ({@link InstaFlow#newCall}); executes once, on the calling
 * thread. {@link #cancel()} may be called from any thread, before or during {@link #execute}: the generation then
 * stops before its next stage or sampler step and throws {@link GenerationCancelledException} (a network forward in
 * progress finishes first). Like OkHttp's {@code Call}, it exposes the {@link #request()} it runs rather than a copy.
 *
 * <pre>{@code
 * GenerationCall call = model.newCall(request);
 * cancelButton.onClick(call::cancel);                  // from the UI thread
 * Generation g = call.execute(p -> bar.update(p));     // on a worker thread
 * }</pre>
 */
public final class GenerationCall {
    private final InstaFlow model;
    private final GenerationRequest request;
    private final AtomicBoolean executed = new AtomicBoolean();
    private volatile boolean cancelled;

    GenerationCall(InstaFlow model, GenerationRequest request) {
        this.model = model;
        this.request = Objects.requireNonNull(request, "request");
    }

    /** The request this call runs. */
    public GenerationRequest request() {
        return request;
    }

    /** Runs the request; see {@link #execute(Consumer)}. */
    public Generation execute() {
        return execute(progress -> { });
    }

    /**
     * Runs the request on this thread, telling {@code listener} after the text is encoded, after each sampler step
     * and after decoding (on this thread; keep it quick, it runs between network evaluations). An exception the
     * listener throws ends the generation and is rethrown as is. On a GPU the host queues work ahead of the device,
     * so a step is reported when it is queued, and a cancellation takes effect once the work already queued has run.
     *
     * @throws IllegalArgumentException     if a request value is outside what the model accepts
     * @throws GenerationCancelledException if {@link #cancel()} was called or the thread was interrupted
     * @throws InferenceException           if a network failed (the native message is kept)
     * @throws IllegalStateException        if the call was executed before, or the model is closed
     */
    public Generation execute(Consumer<Progress> listener) {
        Objects.requireNonNull(listener, "listener");
        if (!executed.compareAndSet(false, true)) {
            throw new IllegalStateException("this call was already executed; make a new one with model.newCall(request)");
        }
        return model.run(request, new Engine.Monitor() {
            @Override
            public void progress(Progress progress) {
                listener.accept(progress);
            }

            @Override
            public boolean cancelled() {
                return cancelled;
            }
        });
    }

    /** Asks the generation to stop at its next stage or step (or not to start). Idempotent; any thread. */
    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /** Whether {@link #execute} was called. */
    public boolean isExecuted() {
        return executed.get();
    }
}
