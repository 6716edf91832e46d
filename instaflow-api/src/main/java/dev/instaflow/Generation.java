package dev.instaflow;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The result of one generation: the images in batch order (each prompt's images consecutive) and the settings that
 * were actually used, so that any image can be reproduced: the seed (also when it was drawn at random), the
 * sampler and step count, the guidance, the size, how each prompt was tokenized, and timings per stage.
 */
public final class Generation {
    private final List<BufferedImage> images;
    private final Long seed;
    private final int width;
    private final int height;
    private final Sampler sampler;
    private final int steps;
    private final double guidance;
    private final boolean guided;
    private final String negativePrompt;
    private final List<PromptTokens> prompts;
    private final int denoiserEvaluations;
    private final int refinerEvaluations;
    private final StageTimings timings;
    private final Double strength;
    private final boolean masked;

    private Generation(Builder b) {
        this.images = Collections.unmodifiableList(new ArrayList<>(b.images));
        this.seed = b.seed;
        this.width = b.width;
        this.height = b.height;
        this.sampler = Objects.requireNonNull(b.sampler, "sampler");
        this.steps = b.steps;
        this.guidance = b.guidance;
        this.guided = b.guided;
        this.negativePrompt = b.negativePrompt;
        this.prompts = Collections.unmodifiableList(new ArrayList<>(b.prompts));
        this.denoiserEvaluations = b.denoiserEvaluations;
        this.refinerEvaluations = b.refinerEvaluations;
        this.timings = Objects.requireNonNull(b.timings, "timings");
        this.strength = b.strength;
        this.masked = b.masked;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** All images, in batch order: prompt 0's images, then prompt 1's, and so on. */
    public List<BufferedImage> images() {
        return images;
    }

    /** The first image. */
    public BufferedImage image() {
        return images.get(0);
    }

    /** The seed the noise was drawn from; empty when the caller passed the noise in. */
    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public Sampler sampler() {
        return sampler;
    }

    /** Sampler grid steps. */
    public int steps() {
        return steps;
    }

    /** The guidance scale in effect. */
    public double guidance() {
        return guidance;
    }

    /** Whether classifier-free guidance ran (guidance above 1 on a model that supports it). */
    public boolean guided() {
        return guided;
    }

    /**
     * The negative prompt that was used, or empty text when guidance did not run (guidance 1 or below: a requested
     * negative prompt is then ignored).
     */
    public String negativePrompt() {
        return negativePrompt;
    }

    /** How each prompt was tokenized, in request order. */
    public List<PromptTokens> prompts() {
        return prompts;
    }

    /** Whether any prompt was cut to the model's text window. */
    public boolean truncated() {
        return prompts.stream().anyMatch(PromptTokens::truncated);
    }

    /** Calls of the denoiser network (each on the whole batch, doubled when guided). */
    public int denoiserEvaluations() {
        return denoiserEvaluations;
    }

    /** Calls of the velocity refiner part (FlowTurbo refiner steps). */
    public int refinerEvaluations() {
        return refinerEvaluations;
    }

    public StageTimings timings() {
        return timings;
    }

    /** The strength used when the generation started from an init image; empty for text-to-image. */
    public OptionalDouble strength() {
        return strength == null ? OptionalDouble.empty() : OptionalDouble.of(strength);
    }

    /** Whether an inpainting mask was applied. */
    public boolean masked() {
        return masked;
    }

    @Override
    public String toString() {
        return "Generation{images=" + images.size() + ", seed=" + (seed == null ? "caller noise" : seed) + ", "
                + width + "x" + height + ", sampler=" + sampler + ", steps=" + steps + ", guidance=" + guidance
                + (guided ? " (guided)" : "") + ", denoiserEvaluations=" + denoiserEvaluations
                + ", refinerEvaluations=" + refinerEvaluations
                + (strength != null ? ", strength=" + strength + (masked ? " (masked)" : "") : "") + ", " + timings
                + '}';
    }

    /** Builder used by engines. */
    public static final class Builder {
        private final List<BufferedImage> images = new ArrayList<>();
        private Long seed;
        private int width;
        private int height;
        private Sampler sampler;
        private int steps;
        private double guidance;
        private boolean guided;
        private String negativePrompt = "";
        private final List<PromptTokens> prompts = new ArrayList<>();
        private int denoiserEvaluations;
        private int refinerEvaluations;
        private StageTimings timings;
        private Double strength;
        private boolean masked;

        private Builder() {
        }

        public Builder images(List<BufferedImage> v) { images.clear(); images.addAll(v); return this; }
        public Builder seed(Long v) { this.seed = v; return this; }
        public Builder size(int w, int h) { this.width = w; this.height = h; return this; }
        public Builder sampler(Sampler v) { this.sampler = v; return this; }
        public Builder steps(int v) { this.steps = v; return this; }
        public Builder guidance(double v) { this.guidance = v; return this; }
        public Builder guided(boolean v) { this.guided = v; return this; }
        public Builder negativePrompt(String v) { this.negativePrompt = v; return this; }
        public Builder prompts(List<PromptTokens> v) { prompts.clear(); prompts.addAll(v); return this; }
        public Builder denoiserEvaluations(int v) { this.denoiserEvaluations = v; return this; }
        public Builder refinerEvaluations(int v) { this.refinerEvaluations = v; return this; }
        public Builder timings(StageTimings v) { this.timings = v; return this; }
        public Builder strength(Double v) { this.strength = v; return this; }
        public Builder masked(boolean v) { this.masked = v; return this; }

        public Generation build() {
            return new Generation(this);
        }
    }
}
