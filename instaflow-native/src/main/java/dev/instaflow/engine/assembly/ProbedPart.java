package dev.instaflow.engine.assembly;

import dev.instaflow.InvalidBundleException;
import dev.instaflow.Precision;
import dev.instaflow.engine.runtime.ModulePreparation;
import dev.instaflow.engine.runtime.NativeErrors;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.parameter_iterator;
import org.bytedeco.pytorch.parameter_list;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A TorchScript file loaded on the CPU in float32 so that {@link BundleAssembler} can run it on trial inputs and learn
 * its geometry. Remembers the dtype and device its weights were saved with.
 */
final class ProbedPart implements AutoCloseable {
    private final String role;
    private final Path file;
    private final JitModule module;
    private final Precision dtype;
    private final String device;

    private ProbedPart(String role, Path file, JitModule module, Precision dtype, String device) {
        this.role = role;
        this.file = file;
        this.module = module;
        this.dtype = dtype;
        this.device = device;
    }

    static ProbedPart load(String role, Path file) {
        JitModule module;
        try {
            // Load without a map location first, to see where the weights were saved.
            module = torch.load(file.toString());
        } catch (RuntimeException e) {
            // A CUDA-saved archive cannot be read on a machine without CUDA unless mapped to the CPU.
            try {
                module = torch.load(file.toString(), new DeviceOptional(new org.bytedeco.pytorch.Device(
                        torch.DeviceType.CPU)), false);
            } catch (RuntimeException again) {
                throw new InvalidBundleException(file, null, "the " + role + " is not a loadable TorchScript archive: "
                        + NativeErrors.summary(again), again);
            }
        }
        module.retainReference();
        Precision dtype = Precision.FLOAT32;
        String device = "cpu";
        Optional<Tensor> first = firstFloatingParameter(module);
        if (first.isPresent()) {
            ScalarType t = Tensors.dtype(first.get());
            dtype = t == ScalarType.Half ? Precision.FLOAT16 : t == ScalarType.BFloat16 ? Precision.BFLOAT16
                    : Precision.FLOAT32;
            device = first.get().device().is_cuda() ? "cuda" : "cpu";
        }
        if (dtype != Precision.FLOAT32) {
            module.releaseReference();
            throw new InvalidBundleException(file, null, "the " + role + " has " + dtype + " weights; `bundle` runs the"
                    + " parts on the CPU to learn their geometry, and traced parts fix their dtype, so it needs float32"
                    + " parts (export float16 bundles with the exporter on a GPU instead)");
        }
        ModulePreparation.prepare(module, ScalarType.Float);
        return new ProbedPart(role, file, module, dtype, device);
    }

    private static Optional<Tensor> firstFloatingParameter(JitModule module) {
        parameter_list params = module.parameters(true);
        for (parameter_iterator it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
            Tensor p = it.access();
            if (p.is_floating_point()) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Runs forward on {@code inputs}; empty if it throws. */
    Optional<Tensor> tryForward(Tensor... inputs) {
        try {
            return Optional.of(forward(inputs));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Runs forward on {@code inputs} and returns the (first) tensor. */
    Tensor forward(Tensor... inputs) {
        IValueVector args = new IValueVector();
        for (Tensor t : inputs) {
            args.push_back(new IValue(t));
        }
        IValue out = module.forward(args);
        if (out.isTuple()) {
            return out.toTuple().elements().get(0).toTensor();
        }
        return out.toTensor();
    }

    /** Runs forward and explains a failure in terms of the file and what was tried. */
    Tensor forwardOrExplain(String tried, Tensor... inputs) {
        try {
            return forward(inputs);
        } catch (RuntimeException e) {
            throw new InvalidBundleException(file, null, "the " + role + " failed on " + tried + ": "
                    + NativeErrors.summary(e), e);
        }
    }

    Precision dtype() {
        return dtype;
    }

    String device() {
        return device;
    }

    Path file() {
        return file;
    }

    static Tensor zeros(long... shape) {
        return torch.zeros(shape, new org.bytedeco.pytorch.TensorOptions(ScalarType.Float));
    }

    static Tensor full(long size, double value) {
        return torch.full(new long[] {size}, new org.bytedeco.pytorch.Scalar(value),
                new org.bytedeco.pytorch.TensorOptions(ScalarType.Float));
    }

    static String shape(Tensor t) {
        return Tensors.shapeString(t);
    }

    @Override
    public void close() {
        module.releaseReference();
    }
}
