package dev.instaflow.train.cli;

import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.train.model.ModelConfig;
import dev.instaflow.train.recipe.Recipe;
import dev.instaflow.train.recipe.RecipeSettings;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The options every stage command shares: where the work goes, the CLIP tokenizer, threads and the settings. Public
 * so that instaflow-spark's {@code spark-pairs} mixes in the same options and so builds the same {@link Recipe}.
 */
public final class RecipeOptions {
    /** Where the repository keeps the shipped default model's reduced tokenizer (a valid source for a re-run). */
    static final Path SHIPPED_TOKENIZER =
            Path.of("instaflow-samples/src/main/resources/dev/instaflow/samples/default-model/tokenizer");

    @Option(names = "--work", defaultValue = "train-work", description = "Work folder of the recipe (default:"
            + " ${DEFAULT-VALUE}). Every stage is resumable from it.")
    Path work;

    @Option(names = "--clip-tokenizer", description = "A CLIP tokenizer folder (vocab.json + merges.txt), e.g. the"
            + " tokenizer/ of an SD 1.5 snapshot. Default: ../shared/fixtures/clip if present, else the shipped"
            + " default model's tokenizer in this repository.")
    Path clipTokenizer;

    @Option(names = "--threads", defaultValue = "2", description = "LibTorch intra-op threads (default:"
            + " ${DEFAULT-VALUE}). With 2, set OMP_WAIT_POLICY=PASSIVE.")
    int threads;

    /** The LibTorch intra-op thread count chosen (what {@link #recipe} sets up). */
    public int threads() {
        return threads;
    }

    @Option(names = "--preset", defaultValue = "standard", description = "standard (the documented run) or smoke"
            + " (tiny networks, a few steps).")
    String preset;

    @Option(names = "--seed", description = "Seed of every draw (default 1).")
    Long seed;

    @Option(names = "--batch", description = "Training batch (default 64).")
    Integer batch;

    @Option(names = "--rf1-steps", description = "1-RF optimizer steps (default 3000).")
    Integer rf1Steps;

    @Option(names = "--rf2-steps", description = "2-RF optimizer steps (default 3000).")
    Integer rf2Steps;

    @Option(names = "--distill-steps", description = "Optimizer steps of each distillation (default 1500).")
    Integer distillSteps;

    @Option(names = "--pairs", description = "Pairs per teacher (default 8000).")
    Integer pairs;

    @Option(names = "--pair-steps", description = "Euler steps of the ODE solves that make pairs (default 25).")
    Integer pairSteps;

    @Option(names = "--guidance", description = "Guidance of 1-RF for its pairs and its evaluation (default 2).")
    Double guidance;

    @Option(names = "--rf2-guidance", description = "Guidance of 2-RF for its pairs and evaluation (default 1:"
            + " off, since its pairs already carry 1-RF's guidance).")
    Double rf2Guidance;

    RecipeSettings settings() {
        RecipeSettings base;
        switch (preset) {
            case "standard":
                base = RecipeSettings.defaults();
                break;
            case "smoke":
                base = RecipeSettings.smoke();
                break;
            default:
                throw new IllegalArgumentException("--preset must be standard or smoke, got " + preset);
        }
        ModelConfig model = base.model();
        return new RecipeSettings(model, or(seed, base.seed()), or(batch, base.batchSize()), base.dropCaption(),
                or(rf1Steps, base.rf1Steps()), base.rf1LearningRate(), or(pairs, base.pairCount()),
                or(pairSteps, base.pairSteps()), or(guidance, base.rf1Guidance()), or(rf2Steps, base.rf2Steps()),
                base.rf2LearningRate(), or(rf2Guidance, base.rf2Guidance()), or(distillSteps, base.distillSteps()),
                base.distillLearningRate(), base.emaDecay(), base.flowTime());
    }

    Path clipTokenizer() {
        if (clipTokenizer != null) {
            return clipTokenizer;
        }
        Path shared = Path.of("../shared/fixtures/clip");
        return Files.isRegularFile(shared.resolve("vocab.json")) ? shared : SHIPPED_TOKENIZER;
    }

    /** The recipe, with LibTorch set up for training. */
    public Recipe recipe(PrintStream progress) {
        configureRuntime(threads);
        return new Recipe(work, settings(), clipTokenizer(), new ConsoleProgress(progress));
    }

    /**
     * Threads, and TorchScript's graph optimiser off: with it on, the profiling executor re-specialises the text
     * encoder's training graph every few calls (0.5 s stalls on a 2-core machine); off, every step costs the same.
     */
    public static void configureRuntime(int threads) {
        TorchRuntime.ensureLoaded();
        TorchRuntime.setIntraOpThreads(threads);
        torch.setGraphExecutorOptimize(false);
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
