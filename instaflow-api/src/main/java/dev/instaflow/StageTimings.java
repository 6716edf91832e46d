package dev.instaflow;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Time spent in each {@link Stage} of one generation. Immutable. On the CPU each stage is wall-clock time. On a GPU
 * the stages are intervals between CUDA events recorded on the generation's stream at the stage boundaries, so they
 * measure the device's work (and any time the device waited for the host); {@link Stage#TOTAL} is always the
 * wall-clock time of the whole call.
 */
public final class StageTimings {
    private final Map<Stage, Duration> durations;

    private StageTimings(Map<Stage, Duration> durations) {
        this.durations = Collections.unmodifiableMap(new EnumMap<>(durations));
    }

    /** Builds timings from measured nanoseconds per stage; stages not measured read as zero. */
    public static StageTimings ofNanos(Map<Stage, Long> nanos) {
        Map<Stage, Duration> d = new EnumMap<>(Stage.class);
        nanos.forEach((stage, ns) -> d.put(stage, Duration.ofNanos(ns)));
        return new StageTimings(d);
    }

    public Duration of(Stage stage) {
        return durations.getOrDefault(stage, Duration.ZERO);
    }

    /** Milliseconds (fractional) per stage key, in stage order: {@code tokenize, text_encoder, ..., total}. */
    public Map<String, Double> toMillis() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Stage s : Stage.values()) {
            m.put(s.key(), of(s).toNanos() / 1e6);
        }
        return m;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("StageTimings{");
        toMillis().forEach((k, v) -> sb.append(k).append('=').append(String.format(java.util.Locale.ROOT, "%.2f", v))
                .append("ms, "));
        sb.setLength(sb.length() - 2);
        return sb.append('}').toString();
    }
}
