package dev.instaflow.samples.cli;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Percentiles of a set of measurements (nearest-rank, so every reported value was actually measured). */
final class LatencyStats {
    private final double[] sorted;

    LatencyStats(double[] values) {
        this.sorted = values.clone();
        Arrays.sort(sorted);
    }

    /** The p-th percentile, 0 < p <= 100, by the nearest-rank method. */
    double percentile(double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }

    /** {@code {"p50": .., "p90": .., "p99": ..}}, rounded to microseconds. */
    Map<String, Double> summary() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("p50", round(percentile(50)));
        m.put("p90", round(percentile(90)));
        m.put("p99", round(percentile(99)));
        return m;
    }

    static double round(double ms) {
        return Math.round(ms * 1000.0) / 1000.0;
    }
}
