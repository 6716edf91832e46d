package dev.instaflow.tooling.inspect;

import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.runtime.NativeErrors;
import dev.instaflow.engine.runtime.TorchRuntime;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.FunctionSchema;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Method;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The {@code forward} signature stored in a TorchScript archive: argument names and types (without {@code self}) and
 * the return type, as TorchScript annotates them ({@code Tensor}, {@code Tuple[Tensor, Tensor]}, ...).
 *
 * @param arguments the arguments after {@code self}
 * @param returns   the return type
 */
public record TorchScriptSignature(List<Argument> arguments, String returns) {
    /** One argument: its name and TorchScript type. */
    public record Argument(String name, String type) {
    }

    /** Reads the signature of {@code file}'s forward method; the module is loaded on the CPU and freed again. */
    @SuppressWarnings("try") // the scope is used for its effect: it frees every native object made inside it
    public static TorchScriptSignature read(Path file) {
        TorchRuntime.ensureLoaded();
        try (PointerScope scope = new PointerScope()) {
            JitModule module;
            try {
                // Mapped to the CPU so that an archive saved from CUDA can be read on any machine.
                module = torch.load(file.toString(), new DeviceOptional(new org.bytedeco.pytorch.Device(
                        torch.DeviceType.CPU)), false);
            } catch (RuntimeException e) {
                throw new InvalidModelException(file, null, "is not a loadable TorchScript archive: "
                        + NativeErrors.summary(e), e);
            }
            if (!module.find_method("forward").has_value()) {
                throw new InvalidModelException(file, null, "the TorchScript module has no forward method");
            }
            Method forward = module.get_method("forward");
            FunctionSchema schema = forward.function().getSchema();
            List<Argument> arguments = new ArrayList<>();
            for (long i = 1; i < forward.num_inputs(); i++) { // argument 0 is self
                org.bytedeco.pytorch.Argument a = schema.arguments().getPointer(i);
                arguments.add(new Argument(a.name().getString(), a.type().get().annotation_str().getString()));
            }
            return new TorchScriptSignature(arguments, schema.returns().type().get().annotation_str().getString());
        }
    }

    @Override
    public String toString() {
        return "forward(" + arguments.stream().map(a -> a.name() + ": " + a.type()).collect(Collectors.joining(", "))
                + ") -> " + returns;
    }
}
