package dev.instaflow;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One call's worth of generation settings. Immutable; build with {@link #builder()} or {@link #of(String)}.
 * Anything left unset takes the loaded model's default ({@link ModelInfo#defaults()}), and a missing seed is drawn
 * at random and reported in {@link Generation#settings()}.
 *
 * <pre>{@code
 * GenerationRequest request = GenerationRequest.builder()
 *         .prompt("a red fox in the snow")
 *         .seed(42)
 *         .steps(4).guidance(1.5).negativePrompt("blurry")
 *         .build();
 * }</pre>
 *
 * Values are checked twice: here, for what is wrong whatever the model (negative steps, NaN guidance, null text),
 * and when the request reaches a model, for what the model's limits decide (sizes, batch, steps, refiner).
 * Both throw {@link IllegalArgumentException} naming the field, the value and what was expected; a null argument
 * throws {@link NullPointerException} naming the parameter.
 */
public final class GenerationRequest {
    private final List<String> prompts;
    private final String negativePrompt;
    private final Long seed;
    private final Integer steps;
    private final Double guidance;
    private final Integer width;
    private final Integer height;
    private final int imagesPerPrompt;
    private final Sampler sampler;
    private final LatentNoise noise;
    private final List<BufferedImage> initImages;
    private final Double strength;
    private final BufferedImage mask;
    private final boolean keepUnmaskedPixels;
    private final Integer explicitWidth;
    private final Integer explicitHeight;

    private GenerationRequest(Builder b) {
        this.prompts = Collections.unmodifiableList(new ArrayList<>(b.prompts));
        this.negativePrompt = b.negativePrompt;
        this.seed = b.seed;
        this.steps = b.steps;
        this.guidance = b.guidance;
        this.imagesPerPrompt = b.imagesPerPrompt;
        this.sampler = b.sampler;
        this.noise = b.noise;
        this.initImages = Collections.unmodifiableList(new ArrayList<>(b.initImages));
        this.strength = b.strength;
        this.mask = b.mask;
        this.keepUnmaskedPixels = b.keepUnmaskedPixels;
        this.explicitWidth = b.width;
        this.explicitHeight = b.height;
        if (!initImages.isEmpty()) {
            // The image decides the size; the builder checked that a given width/height equals it.
            this.width = initImages.get(0).getWidth();
            this.height = initImages.get(0).getHeight();
        } else {
            this.width = b.width;
            this.height = b.height;
        }
    }

    /** A request for one image of {@code prompt} with every other setting at the model's default. */
    public static GenerationRequest of(String prompt) {
        return builder().prompt(prompt).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this request's settings, to derive a variant. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.prompts.addAll(prompts);
        b.negativePrompt = negativePrompt;
        b.seed = seed;
        b.steps = steps;
        b.guidance = guidance;
        b.width = explicitWidth;
        b.height = explicitHeight;
        b.initImages.addAll(initImages);
        b.strength = strength;
        b.mask = mask;
        b.keepUnmaskedPixels = keepUnmaskedPixels;
        b.imagesPerPrompt = imagesPerPrompt;
        b.sampler = sampler;
        b.noise = noise;
        return b;
    }

    /** The prompts, at least one; each gets {@link #imagesPerPrompt()} consecutive images. */
    public List<String> prompts() {
        return prompts;
    }

    /** The negative prompt used for every prompt when guidance is on; empty means the model's default. */
    public Optional<String> negativePrompt() {
        return Optional.ofNullable(negativePrompt);
    }

    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    public OptionalInt steps() {
        return steps == null ? OptionalInt.empty() : OptionalInt.of(steps);
    }

    public OptionalDouble guidance() {
        return guidance == null ? OptionalDouble.empty() : OptionalDouble.of(guidance);
    }

    public OptionalInt width() {
        return width == null ? OptionalInt.empty() : OptionalInt.of(width);
    }

    public OptionalInt height() {
        return height == null ? OptionalInt.empty() : OptionalInt.of(height);
    }

    public int imagesPerPrompt() {
        return imagesPerPrompt;
    }

    public Optional<Sampler> sampler() {
        return Optional.ofNullable(sampler);
    }

    /** Caller-given initial noise; when present the seed is not used for noise. */
    public Optional<LatentNoise> noise() {
        return Optional.ofNullable(noise);
    }

    /**
     * The images to start from (image-to-image, inpainting): empty for text-to-image, one for every prompt, or one
     * per prompt in prompt order. Read when the request is generated.
     */
    public List<BufferedImage> initImages() {
        return initImages;
    }

    /**
     * The strength s in (0, 1] given for an init image; unset: 0.8 without a mask, 1 with one (diffusers' defaults).
     * Sampling starts at {@code t0 = s * time_scale} from {@code s * noise + (1 - s) * x_init}; s = 1 ignores the
     * image outside a mask.
     */
    public OptionalDouble strength() {
        return strength == null ? OptionalDouble.empty() : OptionalDouble.of(strength);
    }

    /** The inpainting mask (white = repaint, black = keep), the size of the init image. */
    public Optional<BufferedImage> mask() {
        return Optional.ofNullable(mask);
    }

    /** Whether the original pixels outside the mask are pasted into the decoded images. */
    public boolean keepUnmaskedPixels() {
        return keepUnmaskedPixels;
    }

    @Override
    public String toString() {
        return "GenerationRequest{prompts=" + prompts + (negativePrompt != null ? ", negative=" + negativePrompt : "")
                + (seed != null ? ", seed=" + seed : "") + (steps != null ? ", steps=" + steps : "")
                + (guidance != null ? ", guidance=" + guidance : "")
                + (width != null ? ", width=" + width : "") + (height != null ? ", height=" + height : "")
                + ", imagesPerPrompt=" + imagesPerPrompt + (sampler != null ? ", sampler=" + sampler : "")
                + (noise != null ? ", noise=" + noise : "")
                + (initImages.isEmpty() ? "" : ", initImages=" + initImages.size() + " of " + width + "x" + height)
                + (strength != null ? ", strength=" + strength : "") + (mask != null ? ", mask" : "")
                + (keepUnmaskedPixels ? ", keepUnmaskedPixels" : "") + '}';
    }

    /** Builder for {@link GenerationRequest}. Setters check their own value at once. */
    public static final class Builder {
        private final List<String> prompts = new ArrayList<>();
        private String negativePrompt;
        private Long seed;
        private Integer steps;
        private Double guidance;
        private Integer width;
        private Integer height;
        private int imagesPerPrompt = 1;
        private Sampler sampler;
        private LatentNoise noise;
        private final List<BufferedImage> initImages = new ArrayList<>();
        private Double strength;
        private BufferedImage mask;
        private boolean keepUnmaskedPixels;

        private Builder() {
        }

        /** Sets a single prompt, replacing any set before. The empty string is a valid prompt. */
        public Builder prompt(String prompt) {
            prompts.clear();
            prompts.add(requireText(prompt, "prompt"));
            return this;
        }

        /** Sets several prompts, replacing any set before; they are generated in one batch, in this order. */
        public Builder prompts(List<String> prompts) {
            Objects.requireNonNull(prompts, "prompts");
            List<String> checked = new ArrayList<>(prompts.size());
            for (int i = 0; i < prompts.size(); i++) {
                checked.add(requireText(prompts.get(i), "prompts[" + i + "]"));
            }
            this.prompts.clear();
            this.prompts.addAll(checked);
            return this;
        }

        public Builder prompts(String... prompts) {
            Objects.requireNonNull(prompts, "prompts");
            return prompts(java.util.Arrays.asList(prompts));
        }

        /**
         * Negative prompt for classifier-free guidance. Used only when guidance is above 1 (and the model supports
         * guidance); otherwise it is ignored without an error, and the generation's
         * {@link GenerationSettings#negativePrompt()} is empty and {@link GenerationSettings#guided()} false, which
         * is how a caller can tell.
         */
        public Builder negativePrompt(String negativePrompt) {
            this.negativePrompt = requireText(negativePrompt, "negativePrompt");
            return this;
        }

        /**
         * Seed of the noise generator: LibTorch's CPU generator, so a seed gives the same noise as
         * {@code torch.manual_seed(seed)} in Python, on every device. Read as an unsigned 64-bit value, as torch does.
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Sampler steps, at least 1 (at most the model's limit). */
        public Builder steps(int steps) {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            }
            this.steps = steps;
            return this;
        }

        /** Classifier-free guidance scale; a finite value. Guidance is applied only above 1 (diffusers' rule). */
        public Builder guidance(double guidance) {
            if (!Double.isFinite(guidance)) {
                throw new IllegalArgumentException("guidance must be a finite number, got " + guidance);
            }
            if (guidance < 0) {
                throw new IllegalArgumentException("guidance must be >= 0, got " + guidance);
            }
            this.guidance = guidance;
            return this;
        }

        /** Image width in pixels; the model decides the multiple it must be of and the bound. */
        public Builder width(int width) {
            this.width = requirePositive(width, "width");
            return this;
        }

        /** Image height in pixels; the model decides the multiple it must be of and the bound. */
        public Builder height(int height) {
            this.height = requirePositive(height, "height");
            return this;
        }

        public Builder size(int width, int height) {
            return width(width).height(height);
        }

        /** Images per prompt, at least 1; a prompt's images are consecutive in the result. */
        public Builder imagesPerPrompt(int imagesPerPrompt) {
            this.imagesPerPrompt = requirePositive(imagesPerPrompt, "imagesPerPrompt");
            return this;
        }

        public Builder sampler(Sampler sampler) {
            this.sampler = Objects.requireNonNull(sampler, "sampler");
            return this;
        }

        /**
         * Starts from this noise instead of noise drawn from the seed. Its shape must be
         * {@code [prompts × imagesPerPrompt, latentChannels, height / f, width / f]} for the model's VAE factor f.
         */
        public Builder noise(LatentNoise noise) {
            this.noise = Objects.requireNonNull(noise, "noise");
            return this;
        }

        /**
         * Starts every image of the batch from {@code image} (image-to-image; with {@link #mask} inpainting),
         * replacing any init images set before. Its size becomes the request's size; a width or height set as well
         * must equal it. It must be a multiple of the model's {@link ModelInfo.Limits#sizeMultiple()}: images are not
         * resized. The model needs a VAE encoder ({@link ModelInfo.Features#imageInput()}).
         */
        public Builder initImage(BufferedImage image) {
            return initImages(List.of(requireImage(image, "initImage")));
        }

        /**
         * One init image for all prompts (a list of one) or one per prompt, in prompt order (each prompt's images
         * share it); all of one size. Replaces any set before; an empty list clears them.
         */
        public Builder initImages(List<BufferedImage> images) {
            Objects.requireNonNull(images, "initImages");
            List<BufferedImage> checked = new ArrayList<>(images.size());
            for (int i = 0; i < images.size(); i++) {
                checked.add(requireImage(images.get(i), "initImages[" + i + "]"));
            }
            initImages.clear();
            initImages.addAll(checked);
            return this;
        }

        /** Strength s in (0, 1] for an init image: how far from the image (1 = from pure noise). */
        public Builder strength(double strength) {
            if (!(strength > 0 && strength <= 1)) {
                throw new IllegalArgumentException("strength must be in (0, 1], got " + strength
                        + " (1 starts from pure noise; smaller values stay closer to the init image)");
            }
            this.strength = strength;
            return this;
        }

        /**
         * Inpainting mask, the size of the init image: white repaints, black keeps (averaged over each latent cell
         * and thresholded at 0.5).
         */
        public Builder mask(BufferedImage mask) {
            this.mask = requireImage(mask, "mask");
            return this;
        }

        /** Paste the init image's pixels outside the mask into the decoded images (default false). */
        public Builder keepUnmaskedPixels(boolean keep) {
            this.keepUnmaskedPixels = keep;
            return this;
        }

        /** @throws IllegalArgumentException if no prompt was set, or the image inputs do not fit together */
        public GenerationRequest build() {
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("a request needs at least one prompt (the empty string is allowed)");
            }
            checkImageInputs();
            return new GenerationRequest(this);
        }

        private void checkImageInputs() {
            if (initImages.isEmpty()) {
                String stray = strength != null ? "strength" : mask != null ? "mask"
                        : keepUnmaskedPixels ? "keepUnmaskedPixels" : null;
                if (stray != null) {
                    throw new IllegalArgumentException(stray + " needs an init image (initImage(...))");
                }
                return;
            }
            if (initImages.size() != 1 && initImages.size() != prompts.size()) {
                throw new IllegalArgumentException("initImages has " + initImages.size() + " images for "
                        + prompts.size() + " prompt(s); expected 1 (for every prompt) or one per prompt");
            }
            int w = initImages.get(0).getWidth();
            int h = initImages.get(0).getHeight();
            for (int i = 1; i < initImages.size(); i++) {
                BufferedImage im = initImages.get(i);
                if (im.getWidth() != w || im.getHeight() != h) {
                    throw new IllegalArgumentException("initImages[" + i + "] is " + im.getWidth() + "x"
                            + im.getHeight() + " but initImages[0] is " + w + "x" + h + "; all must be one size");
                }
            }
            if (width != null && width != w || height != null && height != h) {
                throw new IllegalArgumentException("the requested size " + (width != null ? width : w) + "x"
                        + (height != null ? height : h) + " differs from the init image's " + w + "x" + h
                        + "; images are not resized: leave width/height unset or resize the image");
            }
            if (mask != null && (mask.getWidth() != w || mask.getHeight() != h)) {
                throw new IllegalArgumentException("mask is " + mask.getWidth() + "x" + mask.getHeight()
                        + " but the init image is " + w + "x" + h + "; they must be the same size");
            }
            if (keepUnmaskedPixels && mask == null) {
                throw new IllegalArgumentException("keepUnmaskedPixels needs a mask (mask(...))");
            }
        }

        private static BufferedImage requireImage(BufferedImage image, String field) {
            return Objects.requireNonNull(image, field);
        }

        private static String requireText(String text, String field) {
            return Objects.requireNonNull(text, () -> field + " (use \"\" for an empty prompt)");
        }

        private static int requirePositive(int value, String field) {
            if (value < 1) {
                throw new IllegalArgumentException(field + " must be >= 1, got " + value);
            }
            return value;
        }
    }
}
