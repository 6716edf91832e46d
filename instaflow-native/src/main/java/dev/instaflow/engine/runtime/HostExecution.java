package dev.instaflow.engine.runtime;

import dev.instaflow.Progress.Stage;
import dev.instaflow.Generation.Timings;
import org.bytedeco.pytorch.Tensor;

import java.util.EnumMap;
import java.util.Map;

/** {@link DeviceExecution} on the CPU: no transfers, no streams; stages timed with the wall clock. */
final class HostExecution implements DeviceExecution {
    private final long start = System.nanoTime();
    private final Map<Stage, Long> nanos = new EnumMap<>(Stage.class);
    private long last = start;

    @Override
    public Tensor download(Tensor device) {
        return device;
    }

    @Override
    public void synchronize() {
    }

    @Override
    public void lap(Stage stage) {
        long now = System.nanoTime();
        nanos.merge(stage, now - last, Long::sum);
        last = now;
    }

    @Override
    public Timings timings() {
        Map<Stage, java.time.Duration> stages = new EnumMap<>(Stage.class);
        nanos.forEach((stage, ns) -> stages.put(stage, java.time.Duration.ofNanos(ns)));
        return new Timings(stages, java.time.Duration.ofNanos(System.nanoTime() - start));
    }

    @Override
    public void close() {
    }
}
