package dev.instaflow.train;

import dev.instaflow.Device;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.RuntimeSettings;
import dev.instaflow.engine.runtime.TorchRuntime;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests find things, and the thread count Maven passes (1 on CI's two cores). */
public final class TestSupport {
    /** The shipped default model, relative to this module's folder (where Maven runs its tests). */
    public static final Path DEFAULT_MODEL =
            Path.of("../instaflow-samples/src/main/resources/dev/instaflow/samples/default-model");

    private TestSupport() {
    }

    public static int threads() {
        String t = System.getProperty("instaflow.test.threads");
        return t == null || t.isBlank() ? 1 : Integer.parseInt(t);
    }

    /** CPU, after setting the process-wide thread count to the test count (threads are not a load option). */
    public static LoadOptions loadOptions() {
        InstaFlow.configure(InstaFlow.runtimeSettings().withThreads(threads()));
        return LoadOptions.builder().device(Device.cpu()).build();
    }

    /** LibTorch loaded and set to the test thread count (for tests that train). */
    public static void torchForTests() {
        TorchRuntime.ensureLoaded();
        TorchRuntime.setIntraOpThreads(threads());
        org.bytedeco.pytorch.global.torch.setGraphExecutorOptimize(false);
    }

    /** The shipped model's tokenizer: the reduced CLIP tokenizer of the caption vocabulary. */
    public static Path shippedTokenizer() {
        Path dir = DEFAULT_MODEL.resolve("tokenizer");
        Assertions.assertTrue(Files.isRegularFile(dir.resolve("vocab.json")), "the shipped default model's tokenizer"
                + " is missing at " + dir.toAbsolutePath());
        return dir;
    }

    /**
     * The full CLIP tokenizer in {@code ../shared} (via {@code instaflow.shared.dir}); fails under {@code CI=true}
     * and skips elsewhere when absent.
     */
    public static Path sharedClipTokenizer() {
        String configured = System.getProperty("instaflow.shared.dir");
        if (configured == null || configured.isBlank()) {
            configured = System.getenv("INSTAFLOW_SHARED_DIR");
        }
        Path root = Path.of(configured == null || configured.isBlank() ? "../shared" : configured)
                .toAbsolutePath().normalize();
        Path clip = root.resolve("fixtures/clip");
        if (!Files.isRegularFile(clip.resolve("vocab.json"))) {
            String message = "shared fixtures not found at " + root + " (set -Dinstaflow.shared.dir or"
                    + " INSTAFLOW_SHARED_DIR)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(message + "; CI must have them");
            }
            Assumptions.abort(message);
        }
        return clip;
    }
}
