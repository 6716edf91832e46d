package dev.instaflow.samples.examples;

import dev.instaflow.Generation;
import dev.instaflow.GenerationCancelledException;
import dev.instaflow.GenerationCall;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.Progress;
import dev.instaflow.Progress.Stage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * A progress listener that reports each stage and sampler step and cancels the generation once a deadline has
 * passed: {@link GenerationCall#cancel()} (callable from any thread, here from the listener itself) stops it between
 * two network evaluations, and {@link GenerationCall#execute} then throws {@link GenerationCancelledException} having
 * freed everything it allocated.
 *
 * <pre>java ... dev.instaflow.samples.examples.ProgressAndCancel MODEL_DIR [DEADLINE_MS] [STEPS]</pre>
 */
public final class ProgressAndCancel {
    public static void main(String[] args) {
        Path modelDir = Path.of(args[0]);
        Duration budget = Duration.ofMillis(args.length > 1 ? Long.parseLong(args[1]) : 2000);
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 8;

        try (InstaFlow model = InstaFlow.load(modelDir)) {
            GenerationRequest request = GenerationRequest.builder().prompt("a mountain lake at sunrise")
                    .steps(steps).build();
            GenerationCall call = model.newCall(request);             // one run of the request, with a cancel handle
            long deadline = System.nanoTime() + budget.toNanos();
            Consumer<Progress> listener = progress -> {
                if (progress.stage() == Stage.DENOISE) {
                    System.out.println("step " + progress.step() + "/" + progress.totalSteps());
                } else {
                    System.out.println(progress.stage().key() + " done");
                }
                if (System.nanoTime() >= deadline) {
                    call.cancel();                                      // stops before the next stage or step
                }
            };
            try {
                Generation g = call.execute(listener);
                System.out.printf("finished within %d ms: %s%n", budget.toMillis(), g);
            } catch (GenerationCancelledException e) {
                System.out.println("cancelled after " + budget.toMillis() + " ms, at " + e.progress());
            }
        }
    }
}
