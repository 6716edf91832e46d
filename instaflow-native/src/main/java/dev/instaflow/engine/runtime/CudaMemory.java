package dev.instaflow.engine.runtime;

import dev.instaflow.engine.EntryPoint;
import org.bytedeco.pytorch.cuda.DeviceStats;
import org.bytedeco.pytorch.global.torch;

/**
 * LibTorch's CUDA caching-allocator statistics for one device: what benchmarks and memory tests read. Only call
 * these for a CUDA device (the GPU natives must be loaded).
 */
@EntryPoint("GPU memory counters: the CLI's bench")
public final class CudaMemory {
    private CudaMemory() {
    }

    /** Bytes currently held by tensors on the device. */
    public static long allocatedBytes(int device) {
        DeviceStats stats = torch.getDeviceStats((byte) device);
        return stats.allocated_bytes().current(); // element 0: the aggregate over pool types
    }

    /** The most bytes held by tensors since the last {@link #resetPeak}. */
    public static long peakAllocatedBytes(int device) {
        return torch.getDeviceStats((byte) device).allocated_bytes().peak();
    }

    public static void resetPeak(int device) {
        torch.resetPeakStats((byte) device);
    }
}
