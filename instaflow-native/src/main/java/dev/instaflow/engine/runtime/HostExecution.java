package dev.instaflow.engine.runtime;

import dev.instaflow.Stage;
import dev.instaflow.StageTimings;
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
    public StageTimings timings() {
        Map<Stage, Long> all = new EnumMap<>(nanos);
        all.put(Stage.TOTAL, System.nanoTime() - start);
        return StageTimings.ofNanos(all);
    }

    @Override
    public void close() {
    }
}
