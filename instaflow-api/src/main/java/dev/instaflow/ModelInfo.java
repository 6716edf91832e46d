package dev.instaflow;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a loaded model is and what it accepts, as read from its manifest or snapshot configs (see
 * {@code docs/models.md}): what it is ({@link #name()}, {@link #family()}, {@link #prediction()}, its provenance and
 * licence), where it runs ({@link #device()}, {@link #precision()}), what a request gets by default
 * ({@link #defaults()}), what it may ask for ({@link #limits()}) and which optional features it has
 * ({@link #features()}). Immutable; the engine makes it, the constructor checks that its values agree.
 *
 * @param directory  the bundle or snapshot folder the model was loaded from
 * @param name       the model's name
 * @param family     the model family it was made for: {@code instaflow}, {@code rectified-flow}, {@code swiftbrush}, ...
 * @param prediction what its denoiser predicts
 * @param device     where it runs
 * @param precision  the precision its networks run in
 * @param defaults   what a request gets for the settings it leaves unset
 * @param limits     the largest values a request may ask for
 * @param features   the optional features it has
 * @param latents    the latent space, for callers that pass their own noise ({@link #noiseShape})
 * @param provenance who made the model from what (free-form strings from the manifest, such as {@code license})
 */
public record ModelInfo(Path directory, String name, String family, Prediction prediction, Device device,
                        Precision precision, Defaults defaults, Limits limits, Features features, Latents latents,
                        Map<String, String> provenance) {
    public ModelInfo {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(prediction, "prediction");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(defaults, "defaults");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(latents, "latents");
        provenance = Map.copyOf(provenance);
        if (limits.sizeMultiple() % latents.scaleFactor() != 0) {
            throw new IllegalArgumentException("size multiple " + limits.sizeMultiple()
                    + " is not a multiple of the latent scale factor " + latents.scaleFactor());
        }
        int m = limits.sizeMultiple();
        if (defaults.width() % m != 0 || defaults.height() % m != 0 || defaults.width() > limits.maxSize()
                || defaults.height() > limits.maxSize()) {
            throw new IllegalArgumentException("default size " + defaults.width() + "x" + defaults.height()
                    + " is not a multiple of " + m + " up to " + limits.maxSize());
        }
        if (defaults.steps() > limits.maxSteps()) {
            throw new IllegalArgumentException("default steps " + defaults.steps() + " exceed the limit "
                    + limits.maxSteps());
        }
        if (defaults.sampler().needsRefiner() && !features.refiner()) {
            throw new IllegalArgumentException("default sampler " + defaults.sampler() + " needs a refiner");
        }
    }

    /** The licence the model's provenance names ({@code license} or {@code licence}), if any. */
    public Optional<String> licence() {
        return Optional.ofNullable(provenance.getOrDefault("license", provenance.get("licence")));
    }

    /** The shape {@code [batch, channels, height/f, width/f]} caller-given noise must have for a request. */
    public long[] noiseShape(int batch, int width, int height) {
        return new long[] {batch, latents.channels(), height / latents.scaleFactor(), width / latents.scaleFactor()};
    }

    @Override
    public String toString() {
        return "ModelInfo{" + name + ", " + family + ", " + prediction + " prediction, " + device + ", " + precision
                + ", " + directory + '}';
    }

    /** What a model's denoiser predicts. */
    public enum Prediction {
        /**
         * A rectified-flow velocity from noise towards data (InstaFlow, 2-Rectified Flow). Samplers integrate
         * {@code x += dt * v}.
         */
        VELOCITY,
        /**
         * DDPM noise at a fixed timestep, read once as {@code x0 = (z - sqrt(1 - a) * eps) / sqrt(a)} (SwiftBrush).
         * One step, no guidance.
         */
        EPSILON;

        /** {@code velocity} or {@code epsilon}, as manifests write it. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return id();
        }
    }

    /**
     * What a request gets for each setting it leaves unset.
     *
     * @param width          image width in pixels
     * @param height         image height in pixels
     * @param sampler        the sampler
     * @param steps          sampler steps (for samplers whose schedule does not fix them)
     * @param guidance       the classifier-free guidance scale; guidance runs only above 1
     * @param negativePrompt the negative prompt used with guidance (normally empty)
     */
    public record Defaults(int width, int height, Sampler sampler, int steps, double guidance, String negativePrompt) {
        public Defaults {
            Objects.requireNonNull(sampler, "sampler");
            Objects.requireNonNull(negativePrompt, "negativePrompt");
            if (width < 1 || height < 1 || steps < 1 || !Double.isFinite(guidance) || guidance < 0) {
                throw new IllegalArgumentException("defaults " + width + "x" + height + ", " + steps
                        + " step(s), guidance " + guidance + "; expected positive sizes and steps, finite guidance >= 0");
            }
        }
    }

    /**
     * The largest values a request may ask for.
     *
     * @param sizeMultiple width and height must be multiples of this (the VAE factor times the denoiser's
     *                     downsampling)
     * @param maxSize      the largest width or height in pixels
     * @param maxBatch     the largest number of images in one call (prompts times images per prompt)
     * @param maxSteps     the largest number of sampler steps
     * @param maxTokens    text tokens the text encoder sees, begin and end markers included (77 for CLIP)
     */
    public record Limits(int sizeMultiple, int maxSize, int maxBatch, int maxSteps, int maxTokens) {
        public Limits {
            if (sizeMultiple < 1 || maxSize < sizeMultiple || maxBatch < 1 || maxSteps < 1 || maxTokens < 2) {
                throw new IllegalArgumentException("limits: size multiple " + sizeMultiple + ", max size " + maxSize
                        + ", max batch " + maxBatch + ", max steps " + maxSteps + ", max tokens " + maxTokens
                        + "; expected sizeMultiple >= 1, maxSize >= sizeMultiple, maxBatch, maxSteps >= 1,"
                        + " maxTokens >= 2");
            }
        }
    }

    /**
     * The optional features a model has.
     *
     * @param guidance   classifier-free guidance (and so a negative prompt) can be used
     * @param refiner    it has a FlowTurbo velocity refiner, so FlowTurbo schedules may have R steps
     * @param imageInput it has a VAE encoder, so a request may start from an init image (image-to-image, inpainting)
     */
    public record Features(boolean guidance, boolean refiner, boolean imageInput) {
    }

    /**
     * The latent space the denoiser works in.
     *
     * @param channels    latent channels (4 for Stable Diffusion)
     * @param scaleFactor pixels per latent cell along each side (8 for Stable Diffusion)
     */
    public record Latents(int channels, int scaleFactor) {
        public Latents {
            if (channels < 1 || scaleFactor < 1) {
                throw new IllegalArgumentException("latents: " + channels + " channel(s), scale factor "
                        + scaleFactor + "; expected both >= 1");
            }
        }
    }
}
