package dev.instaflow.engine.runtime;

import dev.instaflow.Progress.Stage;
import dev.instaflow.Generation.Timings;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.cuda.CUDAEvent;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.cuda.CUDAStreamGuard;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * {@link DeviceExecution} on a CUDA device.
 *
 * <ul>
 *   <li><b>Stream.</b> A stream from LibTorch's per-device pool becomes the thread's current stream until
 *       {@link #close()}, so every kernel and copy of the generation is queued on it and concurrent generations on one
 *       GPU do not serialise on the default stream.</li>
 *   <li><b>Transfers.</b> Uploads copy the (small) host tensor into page-locked memory and queue a non-blocking copy;
 *       downloads queue a non-blocking copy into a page-locked host tensor. Page-locked blocks come from LibTorch's
 *       caching host allocator, which reuses them across generations and keeps each block until the copies queued on
 *       it have completed. Host tensors stay referenced until the generation's scope closes, after the sync.</li>
 *   <li><b>One synchronisation.</b> Nothing waits for the device until {@link #synchronize()}, which the pipeline calls
 *       once, before the host reads the pixels. Stage times come from CUDA events recorded on the stream at each stage
 *       boundary and read after that sync, so timing adds no waits.</li>
 * </ul>
 */
final class CudaExecution implements DeviceExecution {
    /** {@code cudaEventDefault}: an event that records time (LibTorch's default disables timing). */
    private static final int TIMING_EVENT = 0;

    private final Device device;
    private final CUDAStream stream;
    private final CUDAStreamGuard guard;
    private final long startNanos = System.nanoTime();
    private final List<Stage> stages = new ArrayList<>();
    private final List<CUDAEvent> events = new ArrayList<>();
    private boolean synced;

    CudaExecution(Device device) {
        this.device = device;
        this.stream = torch_cuda.getStreamFromPool(false, device.index());
        this.guard = new CUDAStreamGuard(stream.unwrap());
        events.add(recordEvent());
    }

    private CUDAEvent recordEvent() {
        CUDAEvent e = new CUDAEvent(TIMING_EVENT);
        e.record(stream);
        return e;
    }

    /** Queues a copy of a host tensor to {@code device} through page-locked memory, on the current stream. */
    static Tensor upload(Tensor host, Device device) {
        Tensor pinned = host.is_pinned() ? host : host.pin_memory();
        return pinned.to(device, Tensors.dtype(pinned), true, false, new org.bytedeco.pytorch.MemoryFormatOptional());
    }

    @Override
    public Tensor download(Tensor onDevice) {
        Tensor contiguous = onDevice.contiguous();
        Tensor host = torch.empty(contiguous.sizes().vec().get(), new TensorOptions(Tensors.dtype(contiguous))
                .pinned_memory(new org.bytedeco.pytorch.BoolOptional(true)), new org.bytedeco.pytorch.MemoryFormatOptional());
        host.copy_(contiguous, true);
        return host;
    }

    @Override
    public void synchronize() {
        stream.synchronize();
        synced = true;
    }

    @Override
    public void lap(Stage stage) {
        stages.add(stage);
        events.add(recordEvent());
    }

    @Override
    public Timings timings() {
        if (!synced) {
            synchronize();
        }
        events.get(events.size() - 1).synchronize(); // the last lap may follow the sync
        Map<Stage, Long> nanos = new EnumMap<>(Stage.class);
        for (int i = 0; i < stages.size(); i++) {
            long ns = Math.round(events.get(i).elapsed_time(events.get(i + 1)) * 1e6);
            nanos.merge(stages.get(i), ns, Long::sum);
        }
        Map<Stage, java.time.Duration> durations = new EnumMap<>(Stage.class);
        nanos.forEach((stage, ns) -> durations.put(stage, java.time.Duration.ofNanos(ns)));
        return new Timings(durations, java.time.Duration.ofNanos(System.nanoTime() - startNanos));
    }

    @Override
    public void close() {
        guard.close();
    }
}
