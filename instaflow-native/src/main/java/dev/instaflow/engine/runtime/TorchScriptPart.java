package dev.instaflow.engine.runtime;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.InferenceException;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.network.DenoiserNetwork;
import dev.instaflow.engine.network.RefinerNetwork;
import dev.instaflow.engine.network.TextEncoderNetwork;
import dev.instaflow.engine.network.VaeDecoderNetwork;
import dev.instaflow.engine.network.VaeEncoderNetwork;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Method;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * One TorchScript file of a bundle, loaded onto a device, with its {@code forward} checked for arity at load: the
 * TorchScript implementation of every network role (the role's method is {@code forward} with the role's tensors, so
 * one class serves them all; which role a part plays is fixed by the arity and the load-time probe of its wrapper).
 * Calls are thread-safe (LibTorch's module forward is re-entrant); {@link #close()} is not concurrent with calls
 * (the model's lifecycle lock sees to that). Native failures become exceptions that name the part and keep
 * LibTorch's message.
 */
@EntryPoint("a TorchScript part loaded and checked: tooling's assembler")
public final class TorchScriptPart implements TextEncoderNetwork, DenoiserNetwork, VaeDecoderNetwork,
        VaeEncoderNetwork, RefinerNetwork {
    private final String role;
    private final Path file;
    private final String field;
    private final JitModule module;
    private static final List<String> TOKEN_TABLES = List.of("token_embedding.weight", "embed_tokens.weight",
            "word_embeddings.weight", "wte.weight");
    private static final List<String> POSITION_TABLES = List.of("position_embedding.weight", "embed_positions.weight",
            "wpe.weight");

    private final Map<String, long[]> tensorShapes;
    private boolean closed;

    private TorchScriptPart(String role, Path file, String field, JitModule module, Map<String, long[]> tensorShapes) {
        this.role = role;
        this.file = file;
        this.field = field;
        this.module = module;
        this.tensorShapes = tensorShapes;
    }

    /**
     * Loads {@code file} as the part {@code role} (e.g. "denoiser") onto the context's device and precision.
     *
     * @param field          the manifest field that named the file, for messages
     * @param inputs         the number of tensor inputs {@code forward} must take
     * @param signature      the expected signature, for messages, e.g. {@code (sample, timestep, text)}
     * @throws InvalidModelException if the file is not a TorchScript archive or its forward does not fit
     */
    public static TorchScriptPart load(String role, Path file, String field, int inputs, String signature,
                                       DeviceContext context) {
        TorchRuntime.ensureLoaded();
        if (!Files.isRegularFile(file)) {
            throw new InvalidModelException(file, field, "the " + role + " part is missing");
        }
        ArchiveIntegrity.checkArchive(file, field); // CRCs and lengths: LibTorch checks neither
        JitModule module;
        try {
            module = torch.load(file.toString(), new DeviceOptional(context.torchDevice()), false);
        } catch (RuntimeException e) {
            throw new InvalidModelException(file, field, "is not a loadable TorchScript archive (truncated or"
                    + " corrupt?): " + NativeErrors.summary(e), e);
        }
        // Keep the module out of whatever PointerScope the caller has open: it lives until close().
        module.retainReference();
        try {
            // Before anything reads a tensor: a short record would be read past its end.
            Map<String, long[]> shapes = ArchiveIntegrity.checkTensors(module, file, field);
            if (!module.find_method("forward").has_value()) {
                throw new InvalidModelException(file, field, "has no forward method; a " + role + " part needs forward"
                        + signature);
            }
            Method forward = module.get_method("forward");
            long actual = forward.num_inputs() - 1; // minus self
            if (actual != inputs) {
                throw new InvalidModelException(file, field, "forward takes " + actual + " input(s); a " + role
                        + " part takes " + inputs + ": forward" + signature);
            }
            ModulePreparation.prepare(module, context.modelDtype());
            return new TorchScriptPart(role, file, field, module, shapes);
        } catch (RuntimeException e) {
            module.releaseReference();
            if (e instanceof InvalidModelException) {
                throw e;
            }
            throw new InvalidModelException(file, field, "could not be prepared as the " + role + " part: "
                    + NativeErrors.summary(e), e);
        }
    }

    /**
     * Runs {@code forward} and returns its tensor (the first element when it returns a tuple, as Hugging Face
     * text encoders do).
     *
     * @throws InferenceException naming the part, with LibTorch's message
     */
    public Tensor forward(Tensor... inputs) {
        if (closed) {
            throw new IllegalStateException("the " + role + " part (" + file.getFileName() + ") is closed");
        }
        IValue out;
        try {
            IValueVector args = new IValueVector();
            for (Tensor t : inputs) {
                args.push_back(new IValue(t));
            }
            out = module.forward(args);
        } catch (RuntimeException e) {
            throw new InferenceException("the " + role + " part (" + file.getFileName() + ") failed: "
                    + NativeErrors.summary(e), e);
        }
        if (out.isTensor()) {
            return out.toTensor();
        }
        if (out.isTuple() && out.toTuple().elements().size() > 0 && out.toTuple().elements().get(0).isTensor()) {
            return out.toTuple().elements().get(0).toTensor();
        }
        throw new InferenceException("the " + role + " part (" + file.getFileName() + ") returned "
                + out.tagKind().getString() + "; expected a tensor", null);
    }

    @Override
    public Tensor encode(Tensor ids) {
        return forward(ids);
    }

    @Override
    public Tensor predict(Tensor sample, Tensor timestep, Tensor encoderHiddenStates) {
        return forward(sample, timestep, encoderHiddenStates);
    }

    @Override
    public Tensor decode(Tensor z) {
        return forward(z);
    }

    @Override
    public Tensor encodeMean(Tensor image) {
        return forward(image);
    }

    @Override
    public Tensor refine(Tensor x, Tensor v, Tensor s) {
        return forward(x, v, s);
    }

    /**
     * The token-embedding rows of a text encoder traced from Hugging Face code, found by the table's name
     * ({@code ...token_embedding.weight} in CLIP, and the names other transformers use), if the archive has one.
     */
    @Override
    public OptionalLong tokenRows() {
        return rows(TOKEN_TABLES);
    }

    /** The position-embedding rows, found by name as {@link #tokenRows()}. */
    @Override
    public OptionalLong positionRows() {
        return rows(POSITION_TABLES);
    }

    private OptionalLong rows(List<String> suffixes) {
        return tensorShapes.entrySet().stream()
                .filter(e -> e.getValue().length == 2 && suffixes.stream().anyMatch(s -> e.getKey().equals(s)
                        || e.getKey().endsWith("." + s)))
                .mapToLong(e -> e.getValue()[0])
                .findFirst();
    }

    @Override
    public String role() {
        return role;
    }

    @Override
    public Path source() {
        return file;
    }

    /** The manifest field that named this part, such as {@code parts.denoiser}. */
    @Override
    public String field() {
        return field;
    }

    /**
     * The shapes of the module's tensors (parameters, buffers, tensor attributes) by qualified name, as loaded,
     * for load-time checks such as the text encoder's embedding table.
     */
    public Map<String, long[]> tensorShapes() {
        return tensorShapes;
    }

    /** Frees the module. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            module.releaseReference();
        }
    }
}
