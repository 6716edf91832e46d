package dev.instaflow;

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
 * Anything left unset takes the loaded model's default from its manifest ({@link ModelInfo}), and a missing seed
 * is drawn at random and reported in the {@link Generation}.
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
 * Both throw {@link IllegalArgumentException} naming the field, the value and what was expected.
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

    private GenerationRequest(Builder b) {
        this.prompts = Collections.unmodifiableList(new ArrayList<>(b.prompts));
        this.negativePrompt = b.negativePrompt;
        this.seed = b.seed;
        this.steps = b.steps;
        this.guidance = b.guidance;
        this.width = b.width;
        this.height = b.height;
        this.imagesPerPrompt = b.imagesPerPrompt;
        this.sampler = b.sampler;
        this.noise = b.noise;
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
        b.width = width;
        b.height = height;
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

    @Override
    public String toString() {
        return "GenerationRequest{prompts=" + prompts + (negativePrompt != null ? ", negative=" + negativePrompt : "")
                + (seed != null ? ", seed=" + seed : "") + (steps != null ? ", steps=" + steps : "")
                + (guidance != null ? ", guidance=" + guidance : "")
                + (width != null ? ", width=" + width : "") + (height != null ? ", height=" + height : "")
                + ", imagesPerPrompt=" + imagesPerPrompt + (sampler != null ? ", sampler=" + sampler : "")
                + (noise != null ? ", noise=" + noise : "") + '}';
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
            if (prompts == null) {
                throw new IllegalArgumentException("prompts must not be null");
            }
            List<String> checked = new ArrayList<>(prompts.size());
            for (int i = 0; i < prompts.size(); i++) {
                checked.add(requireText(prompts.get(i), "prompts[" + i + "]"));
            }
            this.prompts.clear();
            this.prompts.addAll(checked);
            return this;
        }

        public Builder prompts(String... prompts) {
            if (prompts == null) {
                throw new IllegalArgumentException("prompts must not be null");
            }
            return prompts(java.util.Arrays.asList(prompts));
        }

        /**
         * Negative prompt for classifier-free guidance. Used only when guidance is above 1 (and the model supports
         * guidance); otherwise it is ignored without an error, and {@link Generation#negativePrompt()} is empty and
         * {@link Generation#guided()} false, which is how a caller can tell.
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

        /** @throws IllegalArgumentException if no prompt was set */
        public GenerationRequest build() {
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("a request needs at least one prompt (the empty string is allowed)");
            }
            return new GenerationRequest(this);
        }

        private static String requireText(String text, String field) {
            if (text == null) {
                throw new IllegalArgumentException(field + " must not be null (use \"\" for an empty prompt)");
            }
            return text;
        }

        private static int requirePositive(int value, String field) {
            if (value < 1) {
                throw new IllegalArgumentException(field + " must be >= 1, got " + value);
            }
            return value;
        }
    }
}
