package dev.instaflow.train.cli;

import dev.instaflow.train.eval.Evaluator;
import picocli.CommandLine.Option;

/** How many images the evaluation draws. */
final class EvaluationOptions {
    @Option(names = "--per-caption", defaultValue = "50", description = "Images per held-out caption (default"
            + " ${DEFAULT-VALUE}).")
    int perHeldOut;

    @Option(names = "--per-seen-caption", defaultValue = "8", description = "Images per training caption (default"
            + " ${DEFAULT-VALUE}).")
    int perSeen;

    @Option(names = "--eval-seed", defaultValue = "12345", description = "Seed of the evaluation noise and the real"
            + " reference images (default ${DEFAULT-VALUE}).")
    long seed;

    Evaluator.Setup setup() {
        return new Evaluator.Setup(perHeldOut, perSeen, 100, seed);
    }
}
