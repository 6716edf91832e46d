package dev.instaflow.samples.examples;

import dev.instaflow.Generation;
import dev.instaflow.GenerationCancelledException;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.ProgressListener;
import dev.instaflow.Progress.Stage;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A progress listener that reports each stage and sampler step and cancels the generation once a deadline has
 * passed: returning {@code false} stops it between two network evaluations, and {@code generate} then throws
 * {@link GenerationCancelledException} having freed everything it allocated.
 *
 * <pre>java ... dev.instaflow.samples.examples.ProgressAndCancel MODEL_DIR [DEADLINE_MS] [STEPS]</pre>
 */
public final class ProgressAndCancel {
    public static void main(String[] args) {
        Path modelDir = Path.of(args[0]);
        Duration budget = Duration.ofMillis(args.length > 1 ? Long.parseLong(args[1]) : 2000);
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 8;

        try (InstaFlow model = InstaFlow.load(modelDir)) {
            long deadline = System.nanoTime() + budget.toNanos();
            ProgressListener listener = progress -> {
                if (progress.stage() == Stage.DENOISE) {
                    System.out.println("step " + progress.step() + "/" + progress.totalSteps());
                } else {
                    System.out.println(progress.stage().key() + " done");
                }
                return System.nanoTime() < deadline; // false: cancel
            };
            GenerationRequest request = GenerationRequest.builder().prompt("a mountain lake at sunrise")
                    .steps(steps).build();
            try {
                Generation g = model.generate(request, listener);
                System.out.printf("finished within %d ms: %s%n", budget.toMillis(), g);
            } catch (GenerationCancelledException e) {
                System.out.println("cancelled after " + budget.toMillis() + " ms, at " + e.progress());
            }
        }
    }
}
