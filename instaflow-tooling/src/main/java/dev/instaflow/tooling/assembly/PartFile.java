package dev.instaflow.tooling.assembly;

import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.runtime.NativeErrors;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.parameter_iterator;
import org.bytedeco.pytorch.parameter_list;

import java.nio.file.Path;

/**
 * Checks that a TorchScript file given to {@code instaflow bundle} can be probed on this machine's CPU: it must load,
 * and its weights must be float32 tensors saved on the CPU. Traced graphs fix their device and dtype, so a CUDA- or
 * float16-traced part cannot be run here to learn its geometry; such parts are bundled by the exporter on a GPU.
 */
final class PartFile {
    private PartFile() {
    }

    /** @throws InvalidModelException naming the file and the flag that gave it */
    static void requireCpuFloat32(String role, Path file, String flag) {
        try (PointerScope scope = new PointerScope()) {
            JitModule module;
            try {
                module = torch.load(file.toString()); // no map location: where the weights were saved
            } catch (RuntimeException savedElsewhere) {
                if (!loadsOnCpu(file)) {
                    throw new InvalidModelException(file, flag, "the " + role + " is not a loadable TorchScript"
                            + " archive (truncated or corrupt?): " + NativeErrors.summary(savedElsewhere), savedElsewhere);
                }
                throw cudaTraced(role, file, flag);
            }
            Tensor first = firstFloatingParameter(module);
            if (first != null && first.device().is_cuda()) {
                throw cudaTraced(role, file, flag);
            }
            if (first != null && Tensors.dtype(first) != ScalarType.Float) {
                throw new InvalidModelException(file, flag, "the " + role + " has " + Tensors.dtype(first)
                        + " weights; `bundle` runs the parts on the CPU to learn their geometry, and traced parts fix"
                        + " their dtype, so it needs float32 parts (make float16 bundles with the exporter on a GPU)");
            }
        }
    }

    private static boolean loadsOnCpu(Path file) {
        try {
            torch.load(file.toString(), new DeviceOptional(new org.bytedeco.pytorch.Device(torch.DeviceType.CPU)),
                    false);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static InvalidModelException cudaTraced(String role, Path file, String flag) {
        return new InvalidModelException(file, flag, "the " + role + " was saved on a CUDA device; traced graphs pin"
                + " their device, so `bundle` cannot run it on the CPU to learn its geometry: trace it on the CPU, or"
                + " make the bundle with the exporter (exporter --device cuda)");
    }

    private static Tensor firstFloatingParameter(JitModule module) {
        parameter_list params = module.parameters(true);
        for (parameter_iterator it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
            Tensor p = it.access();
            if (p.is_floating_point()) {
                return p;
            }
        }
        return null;
    }
}
