package dev.instaflow.engine.runtime;

import dev.instaflow.engine.EntryPoint;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.pytorch.CompilationUnit;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.global.torch;

import java.util.Locale;

/**
 * Loads LibTorch's natives once per process and owns the process-wide settings (intra-op threads).
 *
 * <p><b>OpenBLAS runs single-threaded.</b> JavaCPP's LibTorch calls OpenBLAS (pthreads build) for matrix products,
 * and OpenBLAS keeps its own pool of one thread per core beside LibTorch's intra-op threads, which
 * {@code set_num_threads} does not govern. The two pools oversubscribe the cores: on a 2-core machine a tiny UNet
 * call took 400-600 ms with OpenBLAS at 2 threads and 18-23 ms at 1 (and a 32x32-latent call 3.1 s against 0.5 s),
 * whatever LibTorch's own thread count. So after loading, OpenBLAS is set to one thread; LibTorch's threads do the
 * parallel work. Setting {@code OPENBLAS_NUM_THREADS} in the environment keeps OpenBLAS's own choice.
 *
 * <p>Loading first extracts every native library of the platform folder into JavaCPP's cache, then loads them.
 * Extracting up front matters: JavaCPP loads {@code libtorch.so} before {@code libtorch_cpu.so} is in the cache, and
 * if a system LibTorch is on the loader's path (Debian's {@code python3-torch}) that one is picked up and the JVM
 * crashes in static initialisation. With the whole folder extracted first, the loader finds ours.
 *
 * <p><b>NNPACK off where it cannot run.</b> LibTorch asks whether NNPACK is available before every CPU convolution
 * and, where NNPACK cannot initialise ("Unsupported hardware": many virtual machines, whatever their CPU flags), logs
 * {@code Could not initialize NNPACK!} on stderr each time: dozens of lines per generation. After loading, NNPACK's
 * availability is asked once with LibTorch's log level raised to errors for that one call, and where NNPACK is
 * unavailable it is switched off in the global context ({@code setUserEnabledNNPACK(false)}), which LibTorch checks
 * before asking. Results are unchanged: an unavailable NNPACK never ran. Where NNPACK works it stays on, as in
 * PyTorch.
 *
 * <p><b>No JavaCPP physical-memory ceiling.</b> JavaCPP refuses any new native object (with an
 * {@code OutOfMemoryError}) once the process's resident memory exceeds {@code org.bytedeco.javacpp.maxPhysicalBytes},
 * by default twice the Java heap limit. A model's weights are native memory LibTorch allocates, not Java heap, so
 * with a small heap a full-size snapshot (3.4 GB of UNet weights in float32) would fail to load for no real
 * shortage. Unless the application set the property, the SDK sets it to 0 (no ceiling) before JavaCPP starts; an
 * application that started JavaCPP first keeps its own setting (see {@code docs/api.md}).
 */
@EntryPoint("loading the natives and process settings: the CLI, training, tooling")
public final class TorchRuntime {
    /** JavaCPP's property for its resident-memory ceiling (read once, when JavaCPP's {@code Pointer} loads). */
    static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";
    private static volatile boolean loaded;

    private TorchRuntime() {
    }

    /** Loads the natives if not yet loaded. Idempotent and thread-safe. */
    public static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (TorchRuntime.class) {
            if (loaded) {
                return;
            }
            if (System.getProperty(MAX_PHYSICAL_BYTES) == null
                    && System.getProperty(MAX_PHYSICAL_BYTES.toLowerCase(Locale.ROOT)) == null) {
                System.setProperty(MAX_PHYSICAL_BYTES, "0");
            }
            try {
                String platform = Loader.getPlatform();
                for (String extension : new String[] {"", "-gpu"}) {
                    String folder = "/org/bytedeco/pytorch/" + platform + extension;
                    if (torch.class.getResource(folder) != null) {
                        Loader.cacheResources(folder);
                    }
                }
                Loader.load(torch.class);
                NativeHeap.keepFreedMemory(System.getenv());
                if (System.getenv("OPENBLAS_NUM_THREADS") == null) {
                    org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(1);
                }
                disableNnpackIfUnavailable();
            } catch (Exception | LinkageError e) {
                throw new dev.instaflow.DeviceUnavailableException("could not load the LibTorch natives for platform "
                        + Loader.getPlatform() + ": " + NativeErrors.summary(e)
                        + ". Check that exactly one of org.bytedeco:pytorch:linux-x86_64 (CPU) or"
                        + " linux-x86_64-gpu (CUDA, with cuda-redist) is on the classpath, and that no system"
                        + " LibTorch (e.g. Debian's python3-torch) is installed", e);
            }
            loaded = true;
        }
    }

    /** Whether LibTorch will try NNPACK for CPU convolutions (false where NNPACK cannot initialise). */
    public static boolean nnpackEnabled() {
        ensureLoaded();
        return torch.globalContext().userEnabledNNPACK();
    }

    /**
     * Asks {@code torch._nnpack_available()} with the log level at ERROR (asking logs the warning too), then
     * restores the level that {@code TORCH_CPP_LOG_LEVEL} set (WARNING by default), and turns NNPACK off if it is
     * unavailable. A failure of the probe leaves NNPACK as it was: at worst the warnings stay.
     */
    private static void disableNnpackIfUnavailable() {
        boolean available = true;
        try {
            setLogLevel(2);
            try (CompilationUnit unit = torch.compile("def nnpack_available() -> bool:\n"
                    + "    return torch._nnpack_available()\n");
                 QualifiedName name = new QualifiedName("nnpack_available");
                 IValueVector noArguments = new IValueVector()) {
                Function probe = unit.get_function(name);
                try (IValue result = probe.apply(noArguments)) {
                    available = result.toBool();
                }
            } finally {
                setLogLevel(configuredLogLevel());
            }
        } catch (RuntimeException e) {
            return;
        }
        if (!available) {
            torch.globalContext().setUserEnabledNNPACK(false);
        }
    }

    /** Sets c10's {@code caffe2_log_level} flag (0 info, 1 warning, 2 error, 3 fatal). */
    private static void setLogLevel(int level) {
        String[] argv = {"instaflow", "--caffe2_log_level=" + level};
        try (PointerPointer<BytePointer> pointers = new PointerPointer<>(argv)) {
            torch.ParseCommandLineFlags(new int[] {argv.length}, pointers);
        }
    }

    /** The level {@code TORCH_CPP_LOG_LEVEL} gives c10 at start-up (as c10 reads it), else WARNING. */
    static int configuredLogLevel() {
        String value = System.getenv("TORCH_CPP_LOG_LEVEL");
        if (value == null) {
            return 1;
        }
        switch (value.strip().toUpperCase(Locale.ROOT)) {
            case "0": case "INFO":
                return 0;
            case "2": case "ERROR":
                return 2;
            case "3": case "FATAL":
                return 3;
            default:
                return 1;
        }
    }

    /**
     * Sets LibTorch's intra-op thread count. This is process-wide in LibTorch: it affects every model in the JVM.
     */
    public static void setIntraOpThreads(int threads) {
        ensureLoaded();
        if (torch.get_num_threads() != threads) {
            torch.set_num_threads(threads);
        }
    }

    /**
     * Applies the process-wide settings: intra-op threads (left as they are when unset) and cuDNN benchmarking (when
     * the GPU natives are present; a no-op on the CPU build).
     */
    public static void configure(dev.instaflow.RuntimeSettings settings) {
        ensureLoaded();
        settings.threads().ifPresent(TorchRuntime::setIntraOpThreads);
        if (hasCudaNatives()) {
            // Process-wide, as in PyTorch: cuDNN times its algorithms per shape and keeps the fastest.
            torch.globalContext().setBenchmarkCuDNN(settings.cudnnBenchmark());
        }
    }

    /** Whether the GPU natives are on the classpath (whatever the machine has). */
    public static boolean hasCudaNatives() {
        return torch.class.getResource("/org/bytedeco/pytorch/" + Loader.getPlatform() + "-gpu") != null;
    }
}
