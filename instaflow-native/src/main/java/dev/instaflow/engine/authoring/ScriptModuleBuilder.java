package dev.instaflow.engine.authoring;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.engine.runtime.NativeErrors;
import dev.instaflow.engine.runtime.TorchRuntime;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds a TorchScript module from Java: named weights plus TorchScript source, then saved as an ordinary archive
 * that any LibTorch (and Python's {@code torch.jit.load}) reads. Used for the demo model, test parts and trained
 * models. The source may call {@code torch.<op>} only ({@code torch.nn.functional} is not available to source
 * compiled outside Python).
 *
 * <pre>{@code
 * try (ScriptModuleBuilder decoder = new ScriptModuleBuilder("Decoder")) {
 *     decoder.parameter("w", weights)
 *            .define("def forward(self, z: Tensor) -> Tensor:\n    return torch.conv2d(z, self.w, None, [1, 1], [1, 1])\n")
 *            .save(path);
 * }
 * }</pre>
 *
 * The builder holds the module outside any {@code PointerScope} until {@link #close()}.
 */
@EntryPoint("TorchScript parts from Java: training's export, the demo bundle")
public final class ScriptModuleBuilder implements AutoCloseable {
    private final JitModule module;
    private boolean closed;

    public ScriptModuleBuilder(String className) {
        TorchRuntime.ensureLoaded();
        this.module = new JitModule(new QualifiedName(className));
        module.retainReference();
    }

    /** Registers a weight (a copy is not made; the tensor becomes the module's). */
    public ScriptModuleBuilder parameter(String name, Tensor value) {
        module.register_parameter(name, value, false);
        return this;
    }

    /** Registers a buffer (a non-trained tensor such as frequencies or a mask). */
    public ScriptModuleBuilder buffer(String name, Tensor value) {
        module.register_buffer(name, value);
        return this;
    }

    /** Compiles methods from TorchScript source. */
    public ScriptModuleBuilder define(String source) {
        try {
            module.define(source);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("TorchScript source does not compile: " + NativeErrors.summary(e), e);
        }
        return this;
    }

    /** The module (in evaluation mode); valid until {@link #close()} unless the caller retains it. */
    public JitModule build() {
        module.eval();
        return module;
    }

    /** Saves the module as a TorchScript archive, creating parent folders. */
    public Path save(Path file) {
        try {
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        build().save(file.toString());
        return file;
    }

    /** Drops the builder's reference to the module. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            module.releaseReference();
        }
    }
}
