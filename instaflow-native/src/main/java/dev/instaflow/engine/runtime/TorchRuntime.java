package dev.instaflow.engine.runtime;

import dev.instaflow.InstaFlowException;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

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
 */
public final class TorchRuntime {
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
            try {
                String platform = Loader.getPlatform();
                for (String extension : new String[] {"", "-gpu"}) {
                    String folder = "/org/bytedeco/pytorch/" + platform + extension;
                    if (torch.class.getResource(folder) != null) {
                        Loader.cacheResources(folder);
                    }
                }
                Loader.load(torch.class);
                if (System.getenv("OPENBLAS_NUM_THREADS") == null) {
                    org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(1);
                }
            } catch (Exception | LinkageError e) {
                throw new InstaFlowException("could not load the LibTorch natives for platform "
                        + Loader.getPlatform() + ": " + NativeErrors.summary(e)
                        + ". Check that exactly one of org.bytedeco:pytorch:linux-x86_64 (CPU) or"
                        + " linux-x86_64-gpu (CUDA, with cuda-redist) is on the classpath, and that no system"
                        + " LibTorch (e.g. Debian's python3-torch) is installed", e);
            }
            loaded = true;
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

    /** Whether the GPU natives are on the classpath (whatever the machine has). */
    public static boolean hasCudaNatives() {
        return torch.class.getResource("/org/bytedeco/pytorch/" + Loader.getPlatform() + "-gpu") != null;
    }
}
