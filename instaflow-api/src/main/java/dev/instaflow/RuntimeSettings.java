package dev.instaflow;

import java.util.OptionalInt;

/**
 * Settings LibTorch keeps per process, not per model: they act on every model loaded in this JVM, before and after
 * the call that sets them. Apply with {@link InstaFlow#configure(RuntimeSettings)}, normally once at start-up, like
 * ONNX Runtime's environment. Immutable; {@link #defaults()} is what a process gets without the call.
 *
 * <pre>{@code
 * InstaFlow.configure(InstaFlow.runtimeSettings().withThreads(4));   // keeps the other settings
 * }</pre>
 *
 * @param threads        intra-op CPU threads; empty leaves LibTorch's own choice (one per core)
 * @param cudnnBenchmark whether cuDNN may time its convolution algorithms per shape and keep the fastest
 *                       (PyTorch's {@code cudnn.benchmark}). Off by default: the choice can differ between processes,
 *                       so images may differ by a rounding level from run to run. Only matters on CUDA.
 */
public record RuntimeSettings(OptionalInt threads, boolean cudnnBenchmark) {
    private static final RuntimeSettings DEFAULTS = new RuntimeSettings(OptionalInt.empty(), false);

    public RuntimeSettings {
        java.util.Objects.requireNonNull(threads, "threads");
        if (threads.isPresent() && threads.getAsInt() < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads.getAsInt());
        }
    }

    /** No thread count (LibTorch's choice), cuDNN benchmarking off. */
    public static RuntimeSettings defaults() {
        return DEFAULTS;
    }

    /** These settings with {@code threads} intra-op threads (at least 1). */
    public RuntimeSettings withThreads(int threads) {
        return new RuntimeSettings(OptionalInt.of(threads), cudnnBenchmark);
    }

    /** These settings with cuDNN benchmarking on or off; see {@link #cudnnBenchmark()}. */
    public RuntimeSettings withCudnnBenchmark(boolean on) {
        return new RuntimeSettings(threads, on);
    }
}
