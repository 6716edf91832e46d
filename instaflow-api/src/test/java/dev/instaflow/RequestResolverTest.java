package dev.instaflow;

import dev.instaflow.GenerationSettings;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static dev.instaflow.GenerationRequestTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Defaults come from the model; limits are the model's; messages name field, value and expectation. */
class RequestResolverTest {
    static ModelInfoFixture model() {
        return new ModelInfoFixture();
    }

    static GenerationSettings resolve(GenerationRequest.Builder request, ModelInfoFixture model) {
        return RequestResolver.resolve(request.build(), model.build());
    }

    @Test
    void fillsDefaultsFromTheModel() {
        GenerationSettings p = resolve(GenerationRequest.builder().prompt("a"), model());
        assertEquals(512, p.width());
        assertEquals(1, p.steps());
        assertEquals(Sampler.euler(), p.sampler());
        assertFalse(p.guided(), "guidance 0 means no guidance");
        assertEquals("", p.negativePrompt());
        assertTrue(p.seed().getAsLong() >= 0 && p.seed().getAsLong() < (1L << 32), "a random seed is drawn and reported");
    }

    @Test
    void guidanceRunsOnlyAboveOne() {
        assertFalse(resolve(GenerationRequest.builder().prompt("a").guidance(1.0).negativePrompt("x"), model()).guided());
        GenerationSettings p = resolve(GenerationRequest.builder().prompt("a").guidance(1.5).negativePrompt("blurry"),
                model());
        assertTrue(p.guided());
        assertEquals("blurry", p.negativePrompt());
        assertEquals("neg", resolve(GenerationRequest.builder().prompt("a").guidance(2),
                model().defaultNegativePrompt("neg")).negativePrompt());
    }

    @Test
    void randomSeedsDiffer() {
        long a = resolve(GenerationRequest.builder().prompt("a"), model()).seed().getAsLong();
        long b = resolve(GenerationRequest.builder().prompt("a"), model()).seed().getAsLong();
        long c = resolve(GenerationRequest.builder().prompt("a"), model()).seed().getAsLong();
        assertTrue(a != b || b != c);
        assertEquals(7, resolve(GenerationRequest.builder().prompt("a").seed(7), model()).seed().getAsLong());
    }

    @Test
    void sizesMustFitTheModel() {
        assertMessage(() -> resolve(GenerationRequest.builder().prompt("a").width(500), model()),
                "width 500 is not a multiple of 64");
        assertMessage(() -> resolve(GenerationRequest.builder().prompt("a").height(2048), model()),
                "height 2048 is outside the model's range 64..1024");
        assertEquals(320, resolve(GenerationRequest.builder().prompt("a").size(320, 640), model()).width());
    }

    @Test
    void batchIsLimited() {
        assertMessage(() -> resolve(GenerationRequest.builder().prompts("a", "b", "c").imagesPerPrompt(3), model()),
                "batch of 3 prompt(s) x 3 image(s) = 9 exceeds the model's limit of 8");
        assertEquals(8, resolve(GenerationRequest.builder().prompts("a", "b").imagesPerPrompt(4), model()).batchSize());
    }

    @Test
    void aBatchWhoseProductOverflowsAnIntIsRefused() {
        // 4 x 2^30 is 2^32, 0 in int arithmetic: it used to slip past max_batch.
        assertMessage(() -> resolve(GenerationRequest.builder().prompts("a", "b", "c", "d").imagesPerPrompt(1 << 30),
                model()), "= 4294967296 exceeds the model's limit of 8");
    }

    @Test
    void stepsAndSamplersAreChecked() {
        assertMessage(() -> resolve(GenerationRequest.builder().prompt("a").steps(101), model()),
                "steps 101 exceeds the model's limit of 100");
        assertMessage(() -> resolve(GenerationRequest.builder().prompt("a").sampler(Sampler.flowTurbo(1, 1, 2)),
                model()), "has no refiner part");
        assertMessage(() -> resolve(GenerationRequest.builder().prompt("a").sampler(Sampler.flowTurbo(1, 2, 0))
                .steps(5), model()), "steps 5 conflicts with sampler flowturbo:H1P2R0");
        GenerationSettings p = resolve(GenerationRequest.builder().prompt("a").sampler(Sampler.flowTurbo(1, 1, 2)),
                model().hasRefiner(true));
        assertEquals(4, p.steps());
    }

    @Test
    void epsilonModelsAreOneStepWithoutGuidance() {
        ModelInfoFixture swiftbrush = model().prediction(ModelInfo.Prediction.EPSILON).supportsGuidance(false);
        assertEquals(1, resolve(GenerationRequest.builder().prompt("a"), swiftbrush).steps());
        assertMessage(() -> resolve(GenerationRequest.builder().prompt("a").steps(2), swiftbrush),
                "one-step epsilon");
        assertMessage(() -> resolve(GenerationRequest.builder().prompt("a").sampler(Sampler.heun()), swiftbrush),
                "one-step epsilon");
        assertMessage(() -> resolve(GenerationRequest.builder().prompt("a").guidance(4.5), swiftbrush),
                "does not support it");
    }

    @Test
    void callerNoiseMustHaveTheBatchShape() {
        LatentNoise noise = LatentNoise.of(new float[4 * 8 * 8], 1, 4, 8, 8);
        assertMessage(() -> resolve(GenerationRequest.builder().prompts(List.of("a", "b")).noise(noise), model()),
                "noise has shape [1, 4, 8, 8] but this request needs [2, 4, 64, 64]");
        GenerationSettings p = resolve(GenerationRequest.builder().prompt("a").size(64, 64).noise(noise), model());
        assertTrue(p.noise().isPresent());
        assertNotEquals(null, p.noise().get());
    }
}
