package dev.instaflow;

import java.util.Locale;
import java.util.Objects;

/**
 * Where a model runs: {@link #cpu()} or a CUDA GPU ({@link #cuda(int)}). Which device to pick when the caller does
 * not say is a policy of {@link LoadOptions#device()}, not a device.
 */
public final class Device {
    /** The kinds of device. */
    public enum Kind { CPU, CUDA }

    private static final Device CPU = new Device(Kind.CPU, -1);

    private final Kind kind;
    private final int index;

    private Device(Kind kind, int index) {
        this.kind = kind;
        this.index = index;
    }

    public static Device cpu() {
        return CPU;
    }

    /** The first CUDA device, {@code cuda:0}. */
    public static Device cuda() {
        return cuda(0);
    }

    public static Device cuda(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("CUDA device index must be >= 0, got " + index);
        }
        return new Device(Kind.CUDA, index);
    }

    /** Parses {@code cpu}, {@code cuda} (or {@code gpu}) and {@code cuda:N}. */
    public static Device parse(String text) {
        String t = Objects.requireNonNull(text, "device").trim().toLowerCase(Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("cuda") || t.equals("gpu")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException("device '" + text + "' is not one of cpu, cuda (or gpu), cuda:N");
    }

    public Kind kind() {
        return kind;
    }

    /** The CUDA device index; -1 for the CPU. */
    public int index() {
        return index;
    }

    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.kind == kind && d.index == index;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, index);
    }

    @Override
    public String toString() {
        return kind == Kind.CUDA ? "cuda:" + index : "cpu";
    }
}
