package dev.instaflow.engine;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.GenerationCancelledException;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InferenceException;
import dev.instaflow.InstaFlow;
import dev.instaflow.Progress.Stage;
import dev.instaflow.engine.testing.TinyBundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Generations that used to end silently wrong or not at all (issue 10): NaN or infinity out of a stage was written
 * as a black PNG; {@link Thread#interrupt()} was ignored until the last step.
 */
class GenerationSafetyTest {
    @TempDir
    Path temp;

    private Path tiny(Consumer<JsonObject> edit) throws IOException {
        Path bundle = TinyBundle.create(temp.resolve("bundle"));
        Path file = bundle.resolve("manifest.json");
        JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        edit.accept(json);
        Files.writeString(file, json.toString());
        return bundle;
    }

    @Test
    void aDecodedImageThatIsNotFiniteFailsNamingTheStage() throws IOException {
        Path bundle = tiny(j -> { });
        nanPart(bundle.resolve("vae_decoder.pt"), "NanDecoder",
                "def forward(self, z: Tensor) -> Tensor:\n"
                        + "    x = torch.zeros([z.size(0), 3, z.size(2) * 2, z.size(3) * 2])\n"
                        + "    return x / x\n");
        try (InstaFlow model = InstaFlow.load(bundle, TestSettings.loadOptions())) {
            InferenceException e = assertThrows(InferenceException.class,
                    () -> model.generate(GenerationRequest.builder().prompt("a photo of a cat").seed(1).build()));
            assertTrue(e.getMessage().startsWith("the decoded image") && e.getMessage().contains("NaN or infinite"),
                    e.getMessage());
        }
    }

    @Test
    void latentsThatAreNotFiniteFailNamingTheStep() throws IOException {
        Path bundle = tiny(j -> { });
        try (InstaFlow model = InstaFlow.load(bundle, TestSettings.loadOptions())) {
            InferenceException e = assertThrows(InferenceException.class,
                    () -> model.generate(GenerationRequest.builder().prompt("a photo of a cat").seed(1).steps(4)
                            .guidance(1e30).build()));
            assertTrue(e.getMessage().contains("NaN or infinite"), e.getMessage());
            assertTrue(e.getMessage().contains("denoise step") || e.getMessage().contains("decoded image"),
                    e.getMessage());
            // The model stays usable.
            model.generate(GenerationRequest.builder().prompt("a photo of a cat").seed(1).build());
        }
    }

    @Test
    void anInterruptedThreadCancelsBeforeTheFirstStageAndKeepsItsFlag() throws IOException {
        Path bundle = tiny(j -> { });
        try (InstaFlow model = InstaFlow.load(bundle, TestSettings.loadOptions())) {
            Thread.currentThread().interrupt();
            try {
                GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                        () -> model.generate(GenerationRequest.builder().prompt("a cat").steps(40).build()));
                assertEquals(Stage.TOKENIZE, e.progress().stage());
                assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag must stay set");
            } finally {
                Thread.interrupted();
            }
        }
    }

    @Test
    void anInterruptDuringTheStepsCancelsAtTheNextStep() throws IOException {
        Path bundle = tiny(j -> { });
        try (InstaFlow model = InstaFlow.load(bundle, TestSettings.loadOptions())) {
            try {
                GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                        () -> model.newCall(GenerationRequest.builder().prompt("a cat").steps(40).build())
                                .execute(p -> {
                                    if (p.stage() == Stage.DENOISE && p.step() == 3) {
                                        Thread.currentThread().interrupt(); // as another thread's interrupt() would
                                    }
                                }));
                assertEquals(Stage.DENOISE, e.progress().stage());
                assertEquals(3, e.progress().step(), "stopped right after step 3: step 4 never ran");
                assertTrue(Thread.currentThread().isInterrupted());
            } finally {
                Thread.interrupted();
            }
            model.generate(GenerationRequest.builder().prompt("a cat").seed(1).build()); // still usable
        }
    }

    @Test
    void aSizeThatCannotFitInMemoryIsRefusedUpFront() throws IOException {
        Path bundle = tiny(j -> j.getAsJsonObject("limits").addProperty("max_size", 2048));
        try (InstaFlow model = InstaFlow.load(bundle, TestSettings.loadOptions())) {
            long start = System.nanoTime();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.generate(GenerationRequest.builder().prompt("a cat").size(2048, 2048).seed(1).build()));
            assertTrue(e.getMessage().contains("needs at least 4.0 TiB") && e.getMessage().contains("available"),
                    e.getMessage());
            assertTrue(System.nanoTime() - start < 2_000_000_000L, "refused before any work");
            model.generate(GenerationRequest.builder().prompt("a cat").size(64, 64).seed(1).build()); // fits
        }
    }

    @Test
    void theMemoryLimitCanBeConfigured() throws IOException {
        Path bundle = tiny(j -> { });
        try (InstaFlow model = InstaFlow.load(bundle, TestSettings.loadOptions())) {
            System.setProperty(dev.instaflow.engine.runtime.MemoryEstimate.LIMIT_PROPERTY, "1m");
            try {
                // 64x64: 1 x (32x32)^2 x 4 bytes = 4 MiB > 1 MiB
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.generate(GenerationRequest.builder().prompt("a").size(64, 64).seed(1).build()));
                assertTrue(e.getMessage().contains("-Dinstaflow.memory.limit=1m"), e.getMessage());
            } finally {
                System.clearProperty(dev.instaflow.engine.runtime.MemoryEstimate.LIMIT_PROPERTY);
            }
        }
    }

    private static void nanPart(Path file, String name, String forward) {
        try (dev.instaflow.engine.authoring.ScriptModuleBuilder b =
                     new dev.instaflow.engine.authoring.ScriptModuleBuilder(name)) {
            b.define(forward).save(file);
        }
    }

    @Test
    void textEmbeddingsThatAreNotFiniteFailNamingTheStage() throws IOException {
        Path bundle = tiny(j -> { });
        nanPart(bundle.resolve("text_encoder.pt"), "NanTextEncoder",
                "def forward(self, input_ids: Tensor) -> Tensor:\n"
                        + "    x = torch.zeros([input_ids.size(0), input_ids.size(1), 32])\n"
                        + "    return x / x\n");
        try (InstaFlow model = InstaFlow.load(bundle, TestSettings.loadOptions())) {
            InferenceException e = assertThrows(InferenceException.class,
                    () -> model.generate(GenerationRequest.builder().prompt("a cat").seed(1).build()));
            assertTrue(e.getMessage().startsWith("the text embeddings"), e.getMessage());
        }
    }
}
