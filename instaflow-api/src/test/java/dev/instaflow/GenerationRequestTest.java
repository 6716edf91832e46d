package dev.instaflow;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerationRequestTest {
    @Test
    void unsetValuesStayUnsetForTheModelToFill() {
        GenerationRequest r = GenerationRequest.of("a cat");
        assertEquals(List.of("a cat"), r.prompts());
        assertFalse(r.seed().isPresent());
        assertFalse(r.steps().isPresent());
        assertFalse(r.guidance().isPresent());
        assertFalse(r.width().isPresent());
        assertFalse(r.sampler().isPresent());
        assertEquals(1, r.imagesPerPrompt());
    }

    @Test
    void theEmptyPromptIsValid() {
        assertEquals(List.of(""), GenerationRequest.of("").prompts());
    }

    @Test
    void requestsAreImmutableValues() {
        GenerationRequest.Builder b = GenerationRequest.builder().prompt("a").seed(1);
        GenerationRequest first = b.build();
        b.prompt("b").seed(2);
        assertEquals(List.of("a"), first.prompts());
        assertEquals(1, first.seed().getAsLong());
        GenerationRequest derived = first.toBuilder().steps(4).build();
        assertEquals(4, derived.steps().getAsInt());
        assertFalse(first.steps().isPresent());
        assertThrows(UnsupportedOperationException.class, () -> first.prompts().add("x"));
    }

    @Test
    void invalidValuesAreRejectedNamingTheField() {
        assertNull(() -> GenerationRequest.builder().prompt(null), "prompt");
        assertNull(() -> GenerationRequest.builder().prompts(Arrays.asList("a", null)), "prompts[1]");
        assertNull(() -> GenerationRequest.builder().negativePrompt(null), "negativePrompt");
        assertNull(() -> GenerationRequest.builder().initImages(null), "initImages");
        assertNull(() -> GenerationRequest.builder().mask(null), "mask");
        assertNull(() -> GenerationRequest.builder().sampler(null), "sampler");
        assertMessage(() -> GenerationRequest.builder().steps(0), "steps must be >= 1, got 0");
        assertMessage(() -> GenerationRequest.builder().guidance(Double.NaN), "guidance must be a finite number");
        assertMessage(() -> GenerationRequest.builder().guidance(Double.POSITIVE_INFINITY), "finite");
        assertMessage(() -> GenerationRequest.builder().guidance(-1), "guidance must be >= 0");
        assertMessage(() -> GenerationRequest.builder().width(0), "width must be >= 1, got 0");
        assertMessage(() -> GenerationRequest.builder().height(-8), "height must be >= 1, got -8");
        assertMessage(() -> GenerationRequest.builder().imagesPerPrompt(0), "imagesPerPrompt");
        assertMessage(() -> GenerationRequest.builder().build(), "at least one prompt");
        assertMessage(() -> GenerationRequest.builder().prompts(List.of()).build(), "at least one prompt");
    }

    @Test
    void latentNoiseChecksItsShapeAndValues() {
        assertMessage(() -> LatentNoise.of(new float[10], 1, 4, 2, 2), "needs 16");
        assertMessage(() -> LatentNoise.of(new float[] {Float.NaN}, 1, 1, 1, 1), "finite");
        float[] values = {1, 2, 3, 4};
        LatentNoise n = LatentNoise.of(values, 1, 1, 2, 2);
        values[0] = 99;
        assertEquals(1, n.values()[0], "values are copied in");
    }

    /** Nulls are programming errors and fail alike everywhere: a NullPointerException naming the parameter. */
    static void assertNull(Runnable action, String parameter) {
        NullPointerException e = assertThrows(NullPointerException.class, action::run);
        assertTrue(e.getMessage().startsWith(parameter), "message '" + e.getMessage() + "' should name " + parameter);
    }

    static void assertMessage(Runnable action, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, action::run);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should contain '" + fragment
                + "'");
    }
}
