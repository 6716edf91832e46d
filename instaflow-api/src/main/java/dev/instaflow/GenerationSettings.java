package dev.instaflow;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A request with every default filled in from the model and every value checked against the model's limits: the
 * settings a generation actually used ({@link Generation#settings()}), enough to reproduce any of its images, and
 * what an engine executes. Made by {@link InstaFlow} from a {@link GenerationRequest}; the constructor checks only
 * that the values agree with each other.
 *
 * @param prompts         the prompts, at least one
 * @param negativePrompt  the negative prompt for every prompt; empty text when guidance does not run (a requested
 *                        negative prompt is then ignored)
 * @param guided          whether classifier-free guidance runs (guidance above 1 on a model that supports it)
 * @param guidance        the guidance scale in effect
 * @param seed            the seed the noise was drawn from (drawn at random when the request had none); empty when
 *                        the caller gave the noise
 * @param noise           caller-given initial noise of shape {@code [batch, channels, height/f, width/f]}
 * @param width           image width in pixels
 * @param height          image height in pixels
 * @param imagesPerPrompt images per prompt, consecutive in the batch
 * @param sampler         the sampler
 * @param steps           the sampler's grid steps
 * @param image           the image the generation started from (image-to-image, inpainting); empty for text-to-image
 */
public record GenerationSettings(List<String> prompts, String negativePrompt, boolean guided, double guidance,
                                 OptionalLong seed, Optional<LatentNoise> noise, int width, int height,
                                 int imagesPerPrompt, Sampler sampler, int steps, Optional<ImageInput> image) {
    public GenerationSettings {
        prompts = List.copyOf(prompts);
        Objects.requireNonNull(negativePrompt, "negativePrompt");
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(noise, "noise");
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(image, "image");
        if (prompts.isEmpty() || width < 1 || height < 1 || imagesPerPrompt < 1 || steps < 1
                || !Double.isFinite(guidance) || seed.isPresent() == noise.isPresent()
                || !guided && !negativePrompt.isEmpty()) {
            throw new IllegalArgumentException("inconsistent settings: " + prompts.size() + " prompt(s), " + width
                    + "x" + height + ", " + imagesPerPrompt + " image(s) per prompt, " + steps + " step(s), guidance "
                    + guidance + (guided ? " (guided)" : "") + ", seed " + seed + ", noise " + noise.isPresent()
                    + "; expected exactly one of seed and noise, and a negative prompt only when guided");
        }
        if (sampler.fixedSteps().isPresent() && sampler.fixedSteps().getAsInt() != steps) {
            throw new IllegalArgumentException("inconsistent settings: sampler " + sampler + " has "
                    + sampler.fixedSteps().getAsInt() + " steps, the settings " + steps);
        }
        if (imagesPerPrompt > Integer.MAX_VALUE / prompts.size()) {
            throw new IllegalArgumentException("inconsistent settings: " + prompts.size() + " prompts x "
                    + imagesPerPrompt + " images overflows");
        }
    }

    /** The number of images: prompts times images per prompt. */
    public int batchSize() {
        return prompts.size() * imagesPerPrompt;
    }

    /** The strength: the image input's, 1 for text-to-image. */
    public double strength() {
        return image.map(ImageInput::strength).orElse(1.0);
    }

    /** Whether an inpainting mask was applied. */
    public boolean masked() {
        return image.flatMap(ImageInput::mask).isPresent();
    }

    /**
     * Whether this and {@code other} can run as one batch (see {@code GenerationService}): the same size, sampler,
     * steps and guidance, and neither starts from an init image. Each keeps its own prompts, negative prompt, seed or
     * noise and images per prompt.
     */
    public boolean canBatchWith(GenerationSettings other) {
        return width == other.width && height == other.height && sampler.equals(other.sampler)
                && steps == other.steps && guided == other.guided
                && Double.compare(guidance, other.guidance) == 0 && image.isEmpty() && other.image.isEmpty();
    }

    /** These settings starting from {@code input}. */
    public GenerationSettings withImage(ImageInput input) {
        return new GenerationSettings(prompts, negativePrompt, guided, guidance, seed, noise, width, height,
                imagesPerPrompt, sampler, steps, Optional.of(input));
    }

    @Override
    public String toString() {
        return "GenerationSettings{" + prompts.size() + " prompt(s) x " + imagesPerPrompt + ", "
                + (seed.isPresent() ? "seed=" + Long.toUnsignedString(seed.getAsLong()) : "caller noise") + ", "
                + width + "x" + height + ", sampler=" + sampler + ", steps=" + steps + ", guidance=" + guidance
                + (guided ? " (guided)" : "") + image.map(i -> ", strength=" + i.strength()
                + (i.mask().isPresent() ? " (masked)" : "")).orElse("") + '}';
    }

    /**
     * The image a generation starts from, checked against the model: every image and the mask are
     * {@code width x height} of the settings, the strength is in (0, 1], and the model has a VAE encoder.
     *
     * @param images             one image for the whole batch, or one per prompt (each prompt's images share it)
     * @param strength           s in (0, 1]: sampling starts at t0 = s * time_scale from {@code s * noise + (1 - s) * x}
     * @param mask               white = repaint, black = keep; reduced to the latent grid (see {@code docs/samplers.md})
     * @param keepUnmaskedPixels paste the original pixels outside the mask into the decoded images
     */
    public record ImageInput(List<BufferedImage> images, double strength, Optional<BufferedImage> mask,
                             boolean keepUnmaskedPixels) {
        public ImageInput {
            images = List.copyOf(images);
            Objects.requireNonNull(mask, "mask");
            if (images.isEmpty() || !(strength > 0 && strength <= 1)) {
                throw new IllegalArgumentException("inconsistent image input: " + images.size()
                        + " image(s), strength " + strength);
            }
        }

        /** The index into {@link #images()} of batch item {@code b}. */
        public int imageIndex(int b, int imagesPerPrompt) {
            return images.size() == 1 ? 0 : b / imagesPerPrompt;
        }
    }
}
