package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.LoadOptions;
import dev.instaflow.Sampler;
import dev.instaflow.engine.testing.ParityAssertions;
import dev.instaflow.engine.testing.RecordingTrace;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.TinyBundle;
import dev.instaflow.GenerationSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The four InstaFlow / 2-Rectified-Flow reference runs of {@code tiny-sd15/ref}, reproduced from the prompt and seed
 * alone, with every saved intermediate compared: token ids, embeddings, noise, the UNet's inputs and output,
 * velocity and latents per step, the decoder's input and output, the float and uint8 images.
 */
class ReferenceParityTest {
    @TempDir
    static Path temp;
    static TorchModel model;

    @BeforeAll
    static void load() {
        model = TorchModel.load(TinyBundle.create(temp.resolve("tiny")), TestSettings.loadOptions());
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"instaflow_n1_nocfg", "instaflow_n1_cfg1.5", "rf2_n4_nocfg", "rf2_n4_cfg1.5"})
    void reproducesEveryIntermediate(String caseName) {
        ReferenceCase reference = ReferenceCase.load(caseName);
        boolean guided = reference.guidance() > 1;
        GenerationSettings plan = Plans.plan(List.of(reference.prompt()), "", guided, reference.guidance(),
                reference.seed(), Optional.empty(), reference.width(), reference.height(), 1, Sampler.euler(),
                reference.steps());
        RecordingTrace trace = new RecordingTrace();
        Generation generation = Plans.run(model, plan, trace);

        Map<String, Double> errors = ParityAssertions.assertMatches(reference, trace, Set.of());
        int pixels = ParityAssertions.assertImagesMatch(reference, generation);
        System.out.printf("%s: max |diff| per tensor%n%s  BufferedImage vs image_uint8: %d levels%n", caseName,
                ParityAssertions.describe(errors), pixels);
        assertEquals(reference.steps() * 1, generation.denoiserEvaluations());
        assertEquals(reference.seed(), generation.settings().seed().getAsLong());
    }
}
