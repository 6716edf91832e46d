package dev.instaflow;

import java.util.Arrays;
import java.util.Objects;

/**
 * Initial latent noise given by the caller instead of a seed: float32 values of shape
 * {@code [batch, channels, height, width]} in row-major (C) order, such as a tensor dumped from Python.
 * Immutable: the values are copied in and out.
 */
public final class LatentNoise {
    private final float[] values;
    private final int batch;
    private final int channels;
    private final int height;
    private final int width;

    private LatentNoise(float[] values, int batch, int channels, int height, int width) {
        this.values = values;
        this.batch = batch;
        this.channels = channels;
        this.height = height;
        this.width = width;
    }

    /**
     * @throws IllegalArgumentException if a dimension is not positive, the value count does not match the shape,
     *                                  or a value is not finite
     */
    public static LatentNoise of(float[] values, int batch, int channels, int height, int width) {
        Objects.requireNonNull(values, "values");
        if (batch < 1 || channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("noise shape must be positive, got [" + batch + ", " + channels + ", "
                    + height + ", " + width + "]");
        }
        long expected = (long) batch * channels * height * width;
        if (values.length != expected) {
            throw new IllegalArgumentException("noise has " + values.length + " values but shape [" + batch + ", "
                    + channels + ", " + height + ", " + width + "] needs " + expected);
        }
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException("noise value " + i + " is " + values[i] + "; expected a finite float");
            }
        }
        return new LatentNoise(values.clone(), batch, channels, height, width);
    }

    /** A copy of the values. */
    public float[] values() {
        return values.clone();
    }

    /** Copies the values into {@code target} (length {@link #size()}) without allocating. */
    public void copyTo(float[] target) {
        System.arraycopy(values, 0, target, 0, values.length);
    }

    public int size() {
        return values.length;
    }

    public int batch() {
        return batch;
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** The shape as {@code [batch, channels, height, width]}. */
    public long[] shape() {
        return new long[] {batch, channels, height, width};
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof LatentNoise)) {
            return false;
        }
        LatentNoise n = (LatentNoise) o;
        return Arrays.equals(shape(), n.shape()) && Arrays.equals(values, n.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape()) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "LatentNoise" + Arrays.toString(shape());
    }
}
