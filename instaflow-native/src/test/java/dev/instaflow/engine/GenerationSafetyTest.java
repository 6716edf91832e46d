package dev.instaflow.engine;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.GenerationCancelledException;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InferenceException;
import dev.instaflow.InstaFlow;
import dev.instaflow.Stage;
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
        Path bundle = tiny(j -> j.getAsJsonObject("latent").addProperty("scaling_factor", 1e-30));
        try (InstaFlow model = InstaFlow.load(bundle, TestSettings.loadOptions())) {
            InferenceException e = assertThrows(InferenceException.class,
                    () -> model.generate(GenerationRequest.builder().prompt("a photo of a cat").seed(1).build()));
            assertTrue(e.getMessage().contains("decoded image") && e.getMessage().contains("NaN or infinite"),
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
                        () -> model.generate(GenerationRequest.builder().prompt("a cat").steps(40).build(), p -> {
                            if (p.stage() == Stage.DENOISE && p.step() == 3) {
                                Thread.currentThread().interrupt(); // as another thread's interrupt() would
                            }
                            return true;
                        }));
                assertEquals(Stage.DENOISE, e.progress().stage());
                assertEquals(4, e.progress().step());
                assertTrue(Thread.currentThread().isInterrupted());
            } finally {
                Thread.interrupted();
            }
            model.generate(GenerationRequest.builder().prompt("a cat").seed(1).build()); // still usable
        }
    }
}
