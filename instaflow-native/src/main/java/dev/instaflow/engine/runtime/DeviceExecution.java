package dev.instaflow.engine.runtime;

import org.bytedeco.pytorch.Tensor;

/**
 * The device side of one generation. On the CPU it does nothing. On CUDA it takes a stream from LibTorch's pool and
 * makes it the thread's current stream for the generation (so concurrent generations on one GPU run on their own
 * streams), downloads through pinned host memory with asynchronous copies, and synchronises exactly once: before
 * the host reads the pixels. (Uploads go through {@link DeviceContext#upload}, which queues them on the current
 * stream the same way.)
 */
public interface DeviceExecution extends AutoCloseable {
    /**
     * Starts copying a device tensor to host memory and returns the host tensor. On CUDA its contents are valid only
     * after {@link #synchronize()}.
     */
    Tensor download(Tensor device);

    /** Waits for all work queued by this generation. */
    void synchronize();

    /** Marks a stage boundary for {@link dev.instaflow.Generation.Timings}. */
    void lap(dev.instaflow.Progress.Stage stage);

    /** Stage times of the generation; call after {@link #synchronize()}. */
    dev.instaflow.Generation.Timings timings();

    /** Restores the thread's previous stream. */
    @Override
    void close();
}
