package dev.instaflow.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** Element-wise comparison of an output with its reference. */
record Diff(long elements, double maxAbsDiff, double maxAbsRef, double rmsDiff, double rmsRef, int nonFinite) {
    static Diff of(float[] got, float[] ref) {
        if (got.length != ref.length) {
            throw new IllegalArgumentException("sizes differ: " + got.length + " vs " + ref.length);
        }
        double maxD = 0, maxR = 0, sd = 0, sr = 0;
        int bad = 0;
        for (int i = 0; i < got.length; i++) {
            if (!Float.isFinite(got[i])) {
                bad++;
                continue;
            }
            double d = Math.abs((double) got[i] - ref[i]);
            maxD = Math.max(maxD, d);
            maxR = Math.max(maxR, Math.abs(ref[i]));
            sd += d * d;
            sr += (double) ref[i] * ref[i];
        }
        return new Diff(got.length, maxD, maxR, Math.sqrt(sd / got.length), Math.sqrt(sr / got.length), bad);
    }

    double relMax() {
        return maxAbsRef == 0 ? Double.NaN : maxAbsDiff / maxAbsRef;
    }

    double relRms() {
        return rmsRef == 0 ? Double.NaN : rmsDiff / rmsRef;
    }

    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("elements", elements);
        m.put("max_abs_diff", maxAbsDiff);
        m.put("max_abs_ref", maxAbsRef);
        m.put("rel_max", relMax());
        m.put("rms_diff", rmsDiff);
        m.put("rms_ref", rmsRef);
        m.put("rel_rms", relRms());
        m.put("non_finite", nonFinite);
        return m;
    }

    @Override
    public String toString() {
        return String.format("max|d| %.3g (max|ref| %.3g, rel %.2g), rms rel %.2g%s", maxAbsDiff, maxAbsRef,
                relMax(), relRms(), nonFinite > 0 ? ", NON-FINITE " + nonFinite : "");
    }
}
