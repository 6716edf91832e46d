package dev.instaflow.train.training;

import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import dev.instaflow.engine.runtime.TorchRuntime;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.parameter_iterator;
import org.bytedeco.pytorch.parameter_list;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A TorchScript module being trained: its parameters require gradients and it is in training mode. It lives
 * outside any {@link org.bytedeco.javacpp.PointerScope} (a reference is retained) until {@link #close()}.
 */
public final class TrainableModule implements AutoCloseable {
    private final JitModule module;
    private final TensorVector parameters = new TensorVector();
    private boolean closed;

    private TrainableModule(JitModule module) {
        this.module = module;
        module.retainReference();
        parameters.retainReference();
        parameter_list list = module.parameters(true);
        for (parameter_iterator it = list.begin(); it.notEquals(list.end()); it = it.increment()) {
            Tensor p = it.access();
            p.requires_grad_(true);
            parameters.push_back(p);
        }
        module.train(true);
    }

    /** A new module from authored source and initial weights. */
    public static TrainableModule of(ScriptModuleBuilder builder) {
        TrainableModule m = new TrainableModule(builder.build());
        builder.close();
        return m;
    }

    /** A module saved by {@link #save} (or any TorchScript archive), ready to train further. */
    public static TrainableModule load(Path file) {
        TorchRuntime.ensureLoaded();
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no TorchScript archive at " + file);
        }
        return new TrainableModule(torch.load(file.toString()));
    }

    /** A module saved as an average ({@link #averageCopy}): parameters that do not require gradients. */
    public static TrainableModule loadAverage(Path file) {
        TrainableModule m = load(file);
        m.freeze();
        return m;
    }

    private void freeze() {
        for (long i = 0; i < parameters.size(); i++) {
            parameters.get(i).requires_grad_(false);
        }
    }

    /** A copy whose parameters do not require gradients: the start of an exponential moving average. */
    public TrainableModule averageCopy() {
        try (NoGradGuard noGrad = new NoGradGuard()) {
            JitModule copy = module.deepcopy();
            TrainableModule m = new TrainableModule(copy);
            m.freeze();
            return m;
        }
    }

    public Tensor forward(Tensor... inputs) {
        IValueVector args = new IValueVector();
        for (Tensor t : inputs) {
            args.push_back(new IValue(t));
        }
        return module.forward(args).toTensor();
    }

    public TensorVector parameters() {
        return parameters;
    }

    /** Total number of weights. */
    public long parameterCount() {
        long n = 0;
        for (long i = 0; i < parameters.size(); i++) {
            n += parameters.get(i).numel();
        }
        return n;
    }

    /** {@code this = this + (1 - decay) * (source - this)} per parameter, without gradients. */
    public void averageTowards(TrainableModule source, double decay) {
        try (NoGradGuard noGrad = new NoGradGuard()) {
            for (long i = 0; i < parameters.size(); i++) {
                parameters.get(i).lerp_(source.parameters.get(i), new org.bytedeco.pytorch.Scalar(1.0 - decay));
            }
        }
    }

    /** Copies the weights of {@code source} (same architecture) into this module. */
    public void copyFrom(TrainableModule source) {
        try (NoGradGuard noGrad = new NoGradGuard()) {
            for (long i = 0; i < parameters.size(); i++) {
                parameters.get(i).copy_(source.parameters.get(i));
            }
        }
    }

    /** Saves in evaluation mode, the form a bundle part ships in, atomically. */
    public void saveForInference(Path file) {
        boolean training = module.is_training();
        module.train(false);
        try {
            save(file);
        } finally {
            module.train(training);
        }
    }

    /** Saves as a TorchScript archive, atomically (temporary file, then rename). */
    public void save(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            // A plain sibling (not createTempFile, whose 0600 mode would stay with the archive).
            Path tmp = dir.resolve("." + file.getFileName() + ".partial");
            Files.deleteIfExists(tmp);
            try {
                module.save(tmp.toString());
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not save " + file, e);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            parameters.releaseReference();
            module.releaseReference();
        }
    }
}
