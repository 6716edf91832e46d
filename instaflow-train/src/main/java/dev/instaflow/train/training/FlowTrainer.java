package dev.instaflow.train.training;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Trains a text encoder and velocity network on the rectified-flow objective
 * {@code E |v(X_s, 1000 (1 - s), text) - (X1 - X0)|^2}, {@code X_s = s X1 + (1 - s) X0}, with Adam, gradient
 * clipping, a warm-up + cosine learning rate and an exponential moving average of the weights. The same loop serves
 * every stage; they differ in where {@code (X0, X1)} come from ({@link BatchSource}) and where s is taken
 * ({@link TimeSampling}).
 *
 * <p>Resumable: a stage folder's checkpoint is loaded if present and training continues from its step with the
 * same batches and time draws an uninterrupted run would have used. {@code loss.csv} in the stage folder logs the
 * mean loss every {@code logEvery} steps. One {@link PointerScope} per step keeps native memory flat.
 */
public final class FlowTrainer {
    private FlowTrainer() {
    }

    /**
     * Runs (or resumes, or finds finished) a stage and returns its averaged networks, which the caller owns.
     *
     * @param initial the starting networks when the stage has no checkpoint yet (called at most once; the trainer
     *                closes them)
     */
    public static NetworkPair train(TrainingSpec spec, Path stageDir, Supplier<NetworkPair> initial,
                                    BatchSource source, TrainingListener listener) {
        Optional<Path> saved = Checkpoint.find(stageDir);
        NetworkPair trained;
        NetworkPair average;
        Checkpoint.State state;
        if (saved.isPresent()) {
            state = Checkpoint.readState(saved.get());
            trained = Checkpoint.loadTrained(saved.get());
            average = Checkpoint.loadAverage(saved.get());
        } else {
            state = new Checkpoint.State(0, 0);
            trained = initial.get();
            average = new NetworkPair(trained.textEncoder().averageCopy(), trained.denoiser().averageCopy());
        }
        try {
            if (state.step() >= spec.steps()) {
                return average;
            }
            TensorVector parameters = new TensorVector();
            for (TrainableModule m : List.of(trained.textEncoder(), trained.denoiser())) {
                for (long i = 0; i < m.parameters().size(); i++) {
                    parameters.push_back(m.parameters().get(i));
                }
            }
            Adam adam = new Adam(parameters, new AdamOptions(spec.learningRate()));
            if (saved.isPresent()) {
                Checkpoint.loadOptimizer(saved.get(), adam);
            }
            LossLog log = LossLog.open(stageDir.resolve("loss.csv"), state.step());
            long started = System.nanoTime();
            double before = state.seconds();
            List<Double> window = new ArrayList<>();
            for (long step = state.step(); step < spec.steps(); step++) {
                double loss;
                double lr = spec.learningRateAt(step);
                try (PointerScope scope = new PointerScope()) {
                    adam.param_groups().get(0).options().set_lr(lr);
                    Batch batch = source.batch(step);
                    adam.zero_grad();
                    Tensor lossTensor = loss(spec, step, trained, batch);
                    lossTensor.backward();
                    torch.clip_grad_norm_(parameters, spec.gradientClip(), 2.0, false);
                    adam.step();
                    double decay = spec.emaDecayAt(step);
                    average.textEncoder().averageTowards(trained.textEncoder(), decay);
                    average.denoiser().averageTowards(trained.denoiser(), decay);
                    loss = lossTensor.item_double();
                }
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("stage " + spec.stage() + ": the loss became " + loss + " at step "
                            + (step + 1) + "; lower the learning rate (now " + spec.learningRate() + ")");
                }
                double seconds = before + (System.nanoTime() - started) / 1e9;
                window.add(loss);
                long done = step + 1;
                if (done % spec.logEvery() == 0 || done == spec.steps()) {
                    log.append(done, window.stream().mapToDouble(Double::doubleValue).average().orElse(loss), lr,
                            seconds);
                    window.clear();
                }
                listener.onStep(spec.stage(), done, spec.steps(), loss, seconds);
                if (done % spec.checkpointEvery() == 0 || done == spec.steps()) {
                    Checkpoint.save(stageDir, new Checkpoint.State(done, seconds), trained, average, adam);
                }
            }
            return average;
        } catch (RuntimeException | Error e) {
            average.close();
            throw e;
        } finally {
            trained.close();
        }
    }

    /** The objective on one batch (a scalar tensor with a graph). */
    static Tensor loss(TrainingSpec spec, long step, NetworkPair networks, Batch batch) {
        long n = batch.x0().size(0);
        GeneratorOptional generator = new GeneratorOptional(torch.createCPUGenerator(
                BatchSource.mix(spec.seed(), step, 4)));
        TensorOptions f32 = new TensorOptions(ScalarType.Float);
        Tensor s;
        switch (spec.time()) {
            case UNIFORM:
                s = torch.rand(new long[] {n}, generator, f32);
                break;
            case LOGIT_NORMAL:
                s = torch.sigmoid(torch.randn(new long[] {n}, generator, f32));
                break;
            case START:
                s = torch.zeros(new long[] {n}, f32);
                break;
            default:
                throw new IllegalStateException(spec.time().name());
        }
        Tensor direction = batch.x1().sub(batch.x0());
        Tensor xs = batch.x0().add(direction.mul(s.view(n, 1, 1, 1)));
        Tensor timestep = s.neg().add(new Scalar(1.0)).mul(new Scalar(1000.0));
        Tensor text = networks.textEncoder().forward(batch.ids());
        Tensor v = networks.denoiser().forward(xs, timestep, text);
        return torch.mse_loss(v, direction);
    }

    /** {@code loss.csv}: step, mean loss since the previous line, learning rate, training seconds. */
    static final class LossLog {
        private final Path file;

        private LossLog(Path file) {
            this.file = file;
        }

        /** Opens the log, dropping lines past {@code resumedStep} (written after the checkpoint a resume uses). */
        static LossLog open(Path file, long resumedStep) {
            try {
                Files.createDirectories(file.toAbsolutePath().getParent());
                List<String> kept = new ArrayList<>();
                kept.add("step,loss,learning_rate,seconds");
                if (Files.isRegularFile(file)) {
                    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                        if (!line.isEmpty() && Character.isDigit(line.charAt(0))
                                && Long.parseLong(line.substring(0, line.indexOf(','))) <= resumedStep) {
                            kept.add(line);
                        }
                    }
                }
                Files.write(file, kept, StandardCharsets.UTF_8);
                return new LossLog(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
        }

        void append(long step, double loss, double lr, double seconds) {
            try {
                Files.writeString(file, String.format(java.util.Locale.ROOT, "%d,%.6f,%.3g,%.1f%n", step, loss, lr,
                        seconds), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
        }
    }
}
