package dev.instaflow.engine.runtime;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps glibc's malloc from handing LibTorch's freed activation buffers back to the operating system between calls.
 *
 * <p>Why: glibc returns the top of its heaps to the OS once more than a threshold is free (and serves buffers above
 * a moving threshold, up to 32 MiB, with fresh {@code mmap}s). A generation frees every activation when it ends, so
 * the next one faults the same megabytes in again, page by page. Measured on the tiny TorchScript bundle at batch 8,
 * 1 thread (docs/performance.md, "Page faults between calls"): 20,000 to 53,000 minor faults per call, 45 to 130 ms
 * per image instead of 8.5, varying from process to process; with the settings below, 1 to 3 faults and 8.3 to
 * 8.5 ms per image in every process. The cost: resident memory stays at its peak instead of shrinking between
 * calls, which is what a process that generates repeatedly wants anyway.
 *
 * <p>What: {@code mallopt(M_MMAP_THRESHOLD, 32 MiB)} (glibc's largest; it also stops the threshold from moving),
 * {@code M_TRIM_THRESHOLD} 2 GiB and {@code M_TOP_PAD} 512 MiB (virtual address space, touched only when used).
 * Applied once, when the natives load, only on Linux with glibc, and never when the process already chose: the
 * environment sets {@code MALLOC_TRIM_THRESHOLD_}, {@code MALLOC_TOP_PAD_}, {@code MALLOC_MMAP_THRESHOLD_} or
 * {@code GLIBC_TUNABLES} with a {@code glibc.malloc} setting, or the system property
 * {@code instaflow.malloc.keep=false} turns it off.
 */
public final class NativeHeap {
    /** The system property that turns the tuning off ({@code false}). */
    public static final String PROPERTY = "instaflow.malloc.keep";

    static final int M_TRIM_THRESHOLD = -1;
    static final int M_TOP_PAD = -2;
    static final int M_MMAP_THRESHOLD = -3;
    static final int MMAP_THRESHOLD = 32 << 20;
    static final int TRIM_THRESHOLD = Integer.MAX_VALUE;
    static final int TOP_PAD = 512 << 20;

    /** What {@link #keepFreedMemory} did, for diagnostics. */
    public enum State { NOT_APPLIED_YET, APPLIED, TURNED_OFF, LEFT_TO_ENVIRONMENT, UNSUPPORTED }

    private static volatile State state = State.NOT_APPLIED_YET;

    private NativeHeap() {
    }

    /** glibc's {@code mallopt}; JNA binds it by name. */
    interface LibC extends Library {
        int mallopt(int param, int value);

        String gnu_get_libc_version();
    }

    public static State state() {
        return state;
    }

    /** Applies the tuning once (see the class comment); never throws. */
    static synchronized State keepFreedMemory(Map<String, String> env) {
        if (state == State.NOT_APPLIED_YET) {
            state = reasonToLeaveAlone(env).orElseGet(NativeHeap::apply);
        }
        return state;
    }

    /** Why the tuning must not be applied in this process, if it must not: the user's or the platform's choice. */
    static Optional<State> reasonToLeaveAlone(Map<String, String> env) {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
            return Optional.of(State.TURNED_OFF);
        }
        if (env.containsKey("MALLOC_TRIM_THRESHOLD_") || env.containsKey("MALLOC_TOP_PAD_")
                || env.containsKey("MALLOC_MMAP_THRESHOLD_")
                || env.getOrDefault("GLIBC_TUNABLES", "").toLowerCase(Locale.ROOT).contains("glibc.malloc")) {
            return Optional.of(State.LEFT_TO_ENVIRONMENT);
        }
        return Platform.isLinux() ? Optional.empty() : Optional.of(State.UNSUPPORTED);
    }

    private static State apply() {
        try {
            LibC c = Native.load("c", LibC.class);
            c.gnu_get_libc_version(); // absent on musl: UnsatisfiedLinkError, not glibc
            boolean ok = c.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                    & c.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
                    & c.mallopt(M_TOP_PAD, TOP_PAD) == 1;
            return ok ? State.APPLIED : State.UNSUPPORTED;
        } catch (LinkageError | RuntimeException e) {
            return State.UNSUPPORTED;
        }
    }
}
