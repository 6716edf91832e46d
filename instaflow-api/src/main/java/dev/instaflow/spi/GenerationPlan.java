package dev.instaflow.spi;

import dev.instaflow.LatentNoise;
import dev.instaflow.Sampler;

import java.util.List;
import java.util.Optional;

/**
 * A request with every default filled in from the model and every value checked against the model's limits: what
 * an {@link Engine} executes. Made only by {@link dev.instaflow.InstaFlow}; engines may trust it.
 *
 * @param prompts         the prompts, at least one
 * @param negativePrompt  the negative prompt for every prompt (used only when {@code guided})
 * @param guided          whether classifier-free guidance runs (guidance above 1 on a model that supports it)
 * @param guidance        the guidance scale
 * @param seed            the seed for the noise (drawn at random when the request had none); unused with {@code noise}
 * @param noise           caller-given initial noise of shape {@code [batch, channels, height/f, width/f]}
 * @param width           image width in pixels
 * @param height          image height in pixels
 * @param imagesPerPrompt images per prompt, consecutive in the batch
 * @param sampler         the sampler
 * @param steps           the sampler's grid steps
 * @param image           the image to start from (image-to-image, inpainting); empty for text-to-image
 */
public record GenerationPlan(List<String> prompts, String negativePrompt, boolean guided, double guidance, long seed,
                             Optional<LatentNoise> noise, int width, int height, int imagesPerPrompt, Sampler sampler,
                             int steps, Optional<ImageInput> image) {
    /** A text-to-image plan. */
    public GenerationPlan(List<String> prompts, String negativePrompt, boolean guided, double guidance, long seed,
                          Optional<LatentNoise> noise, int width, int height, int imagesPerPrompt, Sampler sampler,
                          int steps) {
        this(prompts, negativePrompt, guided, guidance, seed, noise, width, height, imagesPerPrompt, sampler, steps,
                Optional.empty());
    }

    public GenerationPlan {
        prompts = List.copyOf(prompts);
        java.util.Objects.requireNonNull(negativePrompt, "negativePrompt");
        java.util.Objects.requireNonNull(noise, "noise");
        java.util.Objects.requireNonNull(sampler, "sampler");
        java.util.Objects.requireNonNull(image, "image");
        if (prompts.isEmpty() || width < 1 || height < 1 || imagesPerPrompt < 1 || steps < 1
                || !Double.isFinite(guidance)) {
            throw new IllegalArgumentException("inconsistent plan: " + prompts.size() + " prompt(s), " + width + "x"
                    + height + ", " + imagesPerPrompt + " image(s) per prompt, " + steps + " step(s), guidance "
                    + guidance);
        }
        if (sampler.fixedSteps().isPresent() && sampler.fixedSteps().getAsInt() != steps) {
            throw new IllegalArgumentException("inconsistent plan: sampler " + sampler + " has "
                    + sampler.fixedSteps().getAsInt() + " steps, the plan " + steps);
        }
    }

    /** This plan starting from {@code image}. */
    public GenerationPlan withImage(ImageInput image) {
        return new GenerationPlan(prompts, negativePrompt, guided, guidance, seed, noise, width, height,
                imagesPerPrompt, sampler, steps, Optional.of(image));
    }

    /** The strength: the image input's, 1 for text-to-image. */
    public double strength() {
        return image.map(ImageInput::strength).orElse(1.0);
    }

    /** The number of images: prompts times images per prompt. */
    public int batchSize() {
        return Math.multiplyExact(prompts.size(), imagesPerPrompt);
    }
}
