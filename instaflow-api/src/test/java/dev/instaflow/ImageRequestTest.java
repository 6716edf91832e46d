package dev.instaflow;

import dev.instaflow.GenerationSettings;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image inputs: checked in the builder for what is wrong in itself, against the model for the rest. */
class ImageRequestTest {
    static BufferedImage image(int w, int h) {
        return new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    }

    static ModelInfoFixture withEncoder() {
        return RequestResolverTest.model().supportsImageInput(true);
    }

    static void assertMessage(IllegalArgumentException e, String fragment) {
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should contain '" + fragment
                + "'");
    }

    static GenerationSettings resolve(GenerationRequest.Builder request, ModelInfoFixture model) {
        return RequestResolver.resolve(request.build(), model.build());
    }

    @Test
    void theImageSizeBecomesTheRequestSize() {
        GenerationRequest r = GenerationRequest.builder().prompt("a").initImage(image(640, 384)).build();
        assertEquals(640, r.width().getAsInt());
        assertEquals(384, r.height().getAsInt());
        GenerationSettings p = RequestResolver.resolve(r, withEncoder().build());
        assertEquals(640, p.width());
        assertEquals(384, p.height());
        assertEquals(0.8, p.strength(), "diffusers' img2img default");
        assertTrue(p.image().isPresent());
        // Width and height may be given when they equal the image's.
        GenerationRequest.builder().prompt("a").size(640, 384).initImage(image(640, 384)).build();
        // toBuilder keeps the request's own (unset) size, so a new image of another size is fine.
        assertEquals(128, r.toBuilder().initImage(image(128, 128)).build().width().getAsInt());
    }

    @Test
    void strengthIsInTheHalfOpenUnitInterval() {
        for (double bad : new double[] {0.0, -0.1, 1.5, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> GenerationRequest.builder().strength(bad)), "strength must be in (0, 1]");
        }
        assertEquals(1.0, GenerationRequest.builder().prompt("a").initImage(image(64, 64)).strength(1.0).build()
                .strength().getAsDouble());
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> GenerationRequest.builder().prompt("a").strength(0.5).build()), "strength needs an init image");
    }

    @Test
    void theMaskIsTheImageSize() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder().prompt("a")
                .initImage(image(64, 64)).mask(image(64, 128)).build()), "mask is 64x128 but the init image is 64x64");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> GenerationRequest.builder().prompt("a").mask(image(64, 64)).build()), "mask needs an init image");
        GenerationSettings p = resolve(GenerationRequest.builder().prompt("a").initImage(image(64, 64))
                .mask(image(64, 64)).keepUnmaskedPixels(true), withEncoder());
        assertEquals(1.0, p.strength(), "inpainting's default strength");
        assertTrue(p.image().get().keepUnmaskedPixels());
        assertMessage(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder().prompt("a")
                .initImage(image(64, 64)).keepUnmaskedPixels(true).build()), "keepUnmaskedPixels needs a mask");
    }

    @Test
    void aGivenSizeMustEqualTheImage() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder().prompt("a")
                .width(512).initImage(image(640, 384)).build()), "differs from the init image's 640x384");
    }

    @Test
    void oneImageForAllPromptsOrOnePerPrompt() {
        BufferedImage a = image(64, 64);
        BufferedImage b = image(64, 64);
        GenerationSettings p = resolve(GenerationRequest.builder().prompts("x", "y").imagesPerPrompt(2)
                .initImages(List.of(a, b)), withEncoder());
        assertEquals(List.of(0, 0, 1, 1), List.of(p.image().get().imageIndex(0, 2), p.image().get().imageIndex(1, 2),
                p.image().get().imageIndex(2, 2), p.image().get().imageIndex(3, 2)));
        assertSame(b, p.image().get().images().get(1));
        assertMessage(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder()
                .prompts("x", "y", "z").initImages(List.of(a, b)).build()), "initImages has 2 images for 3 prompt(s)");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder()
                .prompts("x", "y").initImages(List.of(a, image(64, 128))).build()), "all must be one size");
    }

    @Test
    void aSizeThatIsNotAMultipleIsRefusedNotResized() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> resolve(GenerationRequest.builder()
                .prompt("a").initImage(image(100, 64)), withEncoder())), "the init image is 100x64, not a multiple of 64");
    }

    @Test
    void aModelWithoutAnEncoderRefusesImages() {
        assertFalse(RequestResolverTest.model().build().features().imageInput());
        assertMessage(assertThrows(IllegalArgumentException.class, () -> resolve(GenerationRequest.builder()
                .prompt("a").initImage(image(64, 64)), RequestResolverTest.model())), "has no VAE encoder");
    }

    @Test
    void epsilonModelsTakeNoStrengthBelowOneAndNoMask() {
        ModelInfoFixture eps = withEncoder().prediction(ModelInfo.Prediction.EPSILON).supportsGuidance(false);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> resolve(GenerationRequest.builder()
                .prompt("a").initImage(image(64, 64)).strength(0.5), eps)), "one-step epsilon");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> resolve(GenerationRequest.builder()
                .prompt("a").initImage(image(64, 64)).mask(image(64, 64)), eps)), "neither a strength below 1 nor a mask");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> resolve(GenerationRequest.builder()
                .prompt("a").initImage(image(64, 64)), eps)), "got strength 0.8");
        assertEquals(1.0, resolve(GenerationRequest.builder().prompt("a").initImage(image(64, 64)).strength(1), eps)
                .strength());
    }

    @Test
    void textToImagePlansHaveNoImage() {
        GenerationSettings p = resolve(GenerationRequest.builder().prompt("a"), withEncoder());
        assertTrue(p.image().isEmpty());
        assertEquals(1.0, p.strength());
    }
}
