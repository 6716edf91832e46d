package dev.instaflow.engine.runtime;

import dev.instaflow.Precision;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Refuses, before any work, a generation that cannot fit in memory. The manifest's {@code limits.max_size} admits
 * sizes whose self-attention alone needs terabytes (the tiny test model asked for 17 GiB at 256² and 70 TB at
 * 2048², after 34 s of work). Self-attention over the latent grid is quadratic in latent pixels: the score matrix of
 * one head of one self-attention layer at the denoiser's first level holds {@code B · (h·w)²} values. The estimate is
 * that one matrix, for the denoiser's batch (doubled with guidance), at the model's precision: a lower bound (real
 * models have several heads and keep more alive), so a refused request certainly fails and an admitted one may
 * still run out. It assumes attention at full latent resolution, as Stable Diffusion 1.x and 2.x UNets have.
 *
 * <p>What is available: the system property {@value #LIMIT_PROPERTY} (bytes, or with a {@code k}, {@code m},
 * {@code g} or {@code t} suffix) if set; otherwise the host's physical memory on the CPU, and {@value #GPU_CEILING_GIB}
 * GiB on CUDA (more than any single GPU has: LibTorch's Java presets do not expose the device's total memory).
 */
public final class MemoryEstimate {
    public static final String LIMIT_PROPERTY = "instaflow.memory.limit";
    static final long GPU_CEILING_GIB = 256;

    private MemoryEstimate() {
    }

    /** A lower bound, in bytes, of the memory a generation needs; {@code Long.MAX_VALUE} if it overflows. */
    public static long lowerBound(int batch, boolean guided, int latentHeight, int latentWidth, Precision precision) {
        try {
            long pixels = Math.multiplyExact((long) latentHeight, (long) latentWidth);
            long rows = Math.multiplyExact((long) batch, guided ? 2L : 1L);
            return Math.multiplyExact(Math.multiplyExact(rows, Math.multiplyExact(pixels, pixels)),
                    (long) bytesPerElement(precision));
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * @throws IllegalArgumentException if the request's lower bound exceeds what is available, with both numbers
     */
    public static void check(int batch, boolean guided, int width, int height, int vaeScaleFactor,
                             Precision precision, boolean cuda) {
        int h = height / vaeScaleFactor;
        int w = width / vaeScaleFactor;
        long needed = lowerBound(batch, guided, h, w, precision);
        long available = available(cuda);
        if (needed > available) {
            throw new IllegalArgumentException("a " + width + "x" + height + " generation of " + batch + " image(s)"
                    + (guided ? " with guidance" : "") + " needs at least " + human(needed) + " ("
                    + (guided ? 2L * batch : batch) + " x (" + h + "x" + w + " latent pixels)^2 x "
                    + bytesPerElement(precision) + " bytes: one self-attention score matrix at the denoiser's first"
                    + " level), more than the " + human(available) + " available (" + availableSource(cuda)
                    + "); use a smaller size or batch");
        }
    }

    static long available(boolean cuda) {
        String configured = System.getProperty(LIMIT_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return parseBytes(configured.trim());
        }
        if (cuda) {
            return GPU_CEILING_GIB << 30;
        }
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getTotalMemorySize();
        }
        return Long.MAX_VALUE;
    }

    private static String availableSource(boolean cuda) {
        String configured = System.getProperty(LIMIT_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return "-D" + LIMIT_PROPERTY + "=" + configured.trim();
        }
        return (cuda ? "the ceiling assumed for a GPU" : "the host's physical memory") + "; -D" + LIMIT_PROPERTY
                + " sets another";
    }

    static long parseBytes(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        int shift = switch (t.charAt(t.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        try {
            long v = Long.parseLong(digits.trim());
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return v > (Long.MAX_VALUE >> shift) ? Long.MAX_VALUE : v << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + LIMIT_PROPERTY + "=" + text + " is not a byte count; expected"
                    + " e.g. 17179869184 or 16g");
        }
    }

    private static int bytesPerElement(Precision precision) {
        return precision == Precision.FLOAT32 ? 4 : 2;
    }

    static String human(long bytes) {
        if (bytes == Long.MAX_VALUE) {
            return "more than 8 EiB";
        }
        double gib = bytes / (double) (1L << 30);
        return gib >= 1024 ? String.format(Locale.ROOT, "%.1f TiB", gib / 1024)
                : String.format(Locale.ROOT, "%.1f GiB", gib);
    }
}
