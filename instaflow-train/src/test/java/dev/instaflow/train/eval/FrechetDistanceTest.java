package dev.instaflow.train.eval;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrechetDistanceTest {
    private static List<double[]> gaussian(int n, int d, double shift, double scale, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<double[]> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double[] x = new double[d];
            for (int j = 0; j < d; j++) {
                double u = Math.max(1e-12, r.nextDouble());
                x[j] = shift + scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
            }
            rows.add(x);
        }
        return rows;
    }

    @Test
    void identicalSetsAreAtDistanceZero() {
        List<double[]> a = gaussian(300, 10, 0, 1, 1);
        assertEquals(0, FrechetDistance.between(a, a), 1e-6);
    }

    @Test
    void aShiftedSetIsAtTheSquaredShift() {
        List<double[]> a = gaussian(400, 5, 0, 1, 2);
        List<double[]> b = new ArrayList<>();
        for (double[] row : a) {
            double[] s = row.clone();
            for (int j = 0; j < s.length; j++) {
                s[j] += 0.5;
            }
            b.add(s);
        }
        assertEquals(5 * 0.25, FrechetDistance.between(a, b), 1e-6);
    }

    @Test
    void aScaledSetMatchesTheClosedForm() {
        // Isotropic covariances s1^2 I and s2^2 I: FD = d (s1 - s2)^2 (up to sampling noise).
        List<double[]> a = gaussian(20000, 3, 0, 1, 3);
        List<double[]> b = gaussian(20000, 3, 0, 2, 4);
        double fd = FrechetDistance.between(a, b);
        assertTrue(Math.abs(fd - 3.0) < 0.15, "FD " + fd);
    }
}
