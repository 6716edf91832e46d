package dev.instaflow.engine.runtime;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Says why CUDA is not usable, in terms a user can act on. LibTorch only reports "not available"; the common causes
 * are the CPU natives on the classpath, no driver or GPU, and the CUDA libraries that JavaCPP's cuda-redist does not
 * ship (cuBLAS, cuDNN, cuSPARSE, cuSOLVER, NCCL), which must come from the system.
 */
public final class CudaDiagnostics {
    /** Libraries {@code libtorch_cuda.so} links that the cuda-redist jar lacks. */
    static final List<String> SYSTEM_LIBRARIES = List.of("libcublas.so.13", "libcublasLt.so.13", "libcudnn.so.9",
            "libcusparse.so.12", "libcusolver.so.12", "libnccl.so.2");

    private CudaDiagnostics() {
    }

    /** A one-paragraph explanation of why CUDA cannot be used here. */
    public static String explainUnavailable() {
        if (!TorchRuntime.hasCudaNatives()) {
            return "the CPU build of LibTorch (org.bytedeco:pytorch:*:linux-x86_64) is on the classpath; CUDA needs the"
                    + " GPU build: build with the Maven profile -Pcuda (classifier linux-x86_64-gpu plus"
                    + " org.bytedeco:cuda-redist), never both builds together";
        }
        List<String> missing = missingSystemLibraries();
        if (!missing.isEmpty()) {
            return "the GPU build of LibTorch is present but these CUDA libraries were not found on LD_LIBRARY_PATH or"
                    + " the system library folders: " + String.join(", ", missing) + ". Install the CUDA 13 toolkit"
                    + " libraries, cuDNN 9 and NCCL 2, or put a CUDA-13 PyTorch environment's site-packages/nvidia/*/lib"
                    + " folders on LD_LIBRARY_PATH (README, \"GPU\")";
        }
        if (!Files.exists(Path.of("/dev/nvidiactl")) && !Files.exists(Path.of("/proc/driver/nvidia/version"))) {
            return "no NVIDIA driver was found (no /dev/nvidiactl, no /proc/driver/nvidia/version): this machine has no"
                    + " usable GPU";
        }
        return "LibTorch reports no usable CUDA device although a driver is present: the driver may be older than"
                + " CUDA 13 needs, or CUDA_VISIBLE_DEVICES hides the GPUs";
    }

    /** The system CUDA libraries that cannot be found in the usual library folders. */
    public static List<String> missingSystemLibraries() {
        Set<Path> folders = new LinkedHashSet<>();
        String ldPath = System.getenv("LD_LIBRARY_PATH");
        if (ldPath != null) {
            for (String f : ldPath.split(File.pathSeparator)) {
                if (!f.isBlank()) {
                    folders.add(Path.of(f));
                }
            }
        }
        for (String f : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/cuda/lib64",
            "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/lib"}) {
            folders.add(Path.of(f));
        }
        List<String> missing = new ArrayList<>();
        for (String lib : SYSTEM_LIBRARIES) {
            boolean found = folders.stream().anyMatch(f -> Files.exists(f.resolve(lib)));
            if (!found) {
                missing.add(lib);
            }
        }
        return missing;
    }
}
