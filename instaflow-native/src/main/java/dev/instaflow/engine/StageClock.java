package dev.instaflow.engine;

import dev.instaflow.Stage;
import dev.instaflow.StageTimings;
import dev.instaflow.engine.runtime.DeviceContext;

import java.util.EnumMap;
import java.util.Map;

/**
 * Wall-clock time per stage of one generation. On a GPU each lap waits for the device first, so a stage's time
 * includes the kernels it queued rather than only their launch.
 */
final class StageClock {
    private final DeviceContext device;
    private final long start = System.nanoTime();
    private final Map<Stage, Long> nanos = new EnumMap<>(Stage.class);
    private long last = start;

    StageClock(DeviceContext device) {
        this.device = device;
    }

    /** Ends {@code stage} now. */
    void lap(Stage stage) {
        device.synchronize();
        long now = System.nanoTime();
        nanos.merge(stage, now - last, Long::sum);
        last = now;
    }

    StageTimings finish() {
        nanos.put(Stage.TOTAL, System.nanoTime() - start);
        return StageTimings.ofNanos(nanos);
    }
}
