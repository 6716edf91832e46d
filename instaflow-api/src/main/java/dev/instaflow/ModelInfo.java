package dev.instaflow;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a loaded model is and what it accepts, as read from its bundle manifest (see {@code docs/bundle-format.md}).
 * Request defaults and limits come from here. Immutable.
 */
public final class ModelInfo {
    private final Path bundleDirectory;
    private final String name;
    private final String family;
    private final PredictionType predictionType;
    private final int latentChannels;
    private final int vaeScaleFactor;
    private final double scalingFactor;
    private final int defaultWidth;
    private final int defaultHeight;
    private final int defaultSteps;
    private final double defaultGuidance;
    private final String defaultNegativePrompt;
    private final Sampler defaultSampler;
    private final int sizeMultiple;
    private final int maxSize;
    private final int maxBatch;
    private final int maxSteps;
    private final int maxTokens;
    private final int textHiddenSize;
    private final boolean supportsGuidance;
    private final boolean hasRefiner;
    private final boolean supportsImageInput;
    private final Precision precision;
    private final Device device;

    private ModelInfo(Builder b) {
        this.bundleDirectory = Objects.requireNonNull(b.bundleDirectory, "bundleDirectory");
        this.name = Objects.requireNonNull(b.name, "name");
        this.family = Objects.requireNonNull(b.family, "family");
        this.predictionType = Objects.requireNonNull(b.predictionType, "predictionType");
        this.latentChannels = b.latentChannels;
        this.vaeScaleFactor = b.vaeScaleFactor;
        this.scalingFactor = b.scalingFactor;
        this.defaultWidth = b.defaultWidth;
        this.defaultHeight = b.defaultHeight;
        this.defaultSteps = b.defaultSteps;
        this.defaultGuidance = b.defaultGuidance;
        this.defaultNegativePrompt = Objects.requireNonNull(b.defaultNegativePrompt, "defaultNegativePrompt");
        this.defaultSampler = Objects.requireNonNull(b.defaultSampler, "defaultSampler");
        this.sizeMultiple = b.sizeMultiple;
        this.maxSize = b.maxSize;
        this.maxBatch = b.maxBatch;
        this.maxSteps = b.maxSteps;
        this.maxTokens = b.maxTokens;
        this.textHiddenSize = b.textHiddenSize;
        this.supportsGuidance = b.supportsGuidance;
        this.hasRefiner = b.hasRefiner;
        this.supportsImageInput = b.supportsImageInput;
        this.precision = Objects.requireNonNull(b.precision, "precision");
        this.device = Objects.requireNonNull(b.device, "device");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The bundle directory the model was loaded from. */
    public Path bundleDirectory() {
        return bundleDirectory;
    }

    public String name() {
        return name;
    }

    /** The model family the bundle was made for: {@code instaflow}, {@code rectified-flow}, {@code swiftbrush}, ... */
    public String family() {
        return family;
    }

    public PredictionType predictionType() {
        return predictionType;
    }

    public int latentChannels() {
        return latentChannels;
    }

    /** Pixels per latent cell along each side (8 for Stable Diffusion). */
    public int vaeScaleFactor() {
        return vaeScaleFactor;
    }

    /** Latents are divided by this before the VAE decoder (0.18215 for SD 1.5 and 2.1). */
    public double scalingFactor() {
        return scalingFactor;
    }

    public int defaultWidth() {
        return defaultWidth;
    }

    public int defaultHeight() {
        return defaultHeight;
    }

    public int defaultSteps() {
        return defaultSteps;
    }

    /** Default classifier-free guidance scale; guidance is applied only when it is above 1. */
    public double defaultGuidance() {
        return defaultGuidance;
    }

    /** The negative prompt used with guidance when the request gives none (normally empty). */
    public String defaultNegativePrompt() {
        return defaultNegativePrompt;
    }

    public Sampler defaultSampler() {
        return defaultSampler;
    }

    /** Width and height must be multiples of this (a multiple of {@link #vaeScaleFactor()}). */
    public int sizeMultiple() {
        return sizeMultiple;
    }

    /** Largest accepted width or height in pixels. */
    public int maxSize() {
        return maxSize;
    }

    /** Largest number of images in one call (prompts times images per prompt). */
    public int maxBatch() {
        return maxBatch;
    }

    /** Largest accepted number of sampler steps. */
    public int maxSteps() {
        return maxSteps;
    }

    /** Text tokens the text encoder sees, including the begin and end markers (77 for CLIP). */
    public int maxTokens() {
        return maxTokens;
    }

    /** Width of the prompt embeddings (768 for SD 1.5, 1024 for SD 2.x). */
    public int textHiddenSize() {
        return textHiddenSize;
    }

    /** Whether classifier-free guidance (and so a negative prompt) can be used. */
    public boolean supportsGuidance() {
        return supportsGuidance;
    }

    /** Whether the bundle has a velocity refiner part (needed by FlowTurbo refiner steps). */
    public boolean hasRefiner() {
        return hasRefiner;
    }

    /**
     * Whether the model can start from an image ({@link GenerationRequest.Builder#initImage}, image-to-image and
     * inpainting): it needs a VAE encoder (a snapshot's {@code vae} has one; a bundle needs
     * {@code parts.vae_encoder}). One-step epsilon models take an image only at strength 1 without a mask.
     */
    public boolean supportsImageInput() {
        return supportsImageInput;
    }

    /** The precision the model runs in. */
    public Precision precision() {
        return precision;
    }

    /** The device the model runs on (never {@link Device#auto()}). */
    public Device device() {
        return device;
    }

    @Override
    public String toString() {
        return "ModelInfo{name=" + name + ", family=" + family + ", prediction=" + predictionType + ", device="
                + device + ", precision=" + precision + ", default=" + defaultWidth + "x" + defaultHeight + " "
                + defaultSampler + "/" + defaultSteps + " steps, guidance " + defaultGuidance + '}';
    }

    /** Builder used by engines; users read {@link ModelInfo}s, they do not make them. */
    public static final class Builder {
        private Path bundleDirectory;
        private String name;
        private String family;
        private PredictionType predictionType;
        private int latentChannels;
        private int vaeScaleFactor;
        private double scalingFactor;
        private int defaultWidth;
        private int defaultHeight;
        private int defaultSteps;
        private double defaultGuidance;
        private String defaultNegativePrompt = "";
        private Sampler defaultSampler = Sampler.euler();
        private int sizeMultiple;
        private int maxSize;
        private int maxBatch;
        private int maxSteps;
        private int maxTokens;
        private int textHiddenSize;
        private boolean supportsGuidance;
        private boolean hasRefiner;
        private boolean supportsImageInput;
        private Precision precision;
        private Device device;

        private Builder() {
        }

        public Builder bundleDirectory(Path v) { this.bundleDirectory = v; return this; }
        public Builder name(String v) { this.name = v; return this; }
        public Builder family(String v) { this.family = v; return this; }
        public Builder predictionType(PredictionType v) { this.predictionType = v; return this; }
        public Builder latentChannels(int v) { this.latentChannels = v; return this; }
        public Builder vaeScaleFactor(int v) { this.vaeScaleFactor = v; return this; }
        public Builder scalingFactor(double v) { this.scalingFactor = v; return this; }
        public Builder defaultWidth(int v) { this.defaultWidth = v; return this; }
        public Builder defaultHeight(int v) { this.defaultHeight = v; return this; }
        public Builder defaultSteps(int v) { this.defaultSteps = v; return this; }
        public Builder defaultGuidance(double v) { this.defaultGuidance = v; return this; }
        public Builder defaultNegativePrompt(String v) { this.defaultNegativePrompt = v; return this; }
        public Builder defaultSampler(Sampler v) { this.defaultSampler = v; return this; }
        public Builder sizeMultiple(int v) { this.sizeMultiple = v; return this; }
        public Builder maxSize(int v) { this.maxSize = v; return this; }
        public Builder maxBatch(int v) { this.maxBatch = v; return this; }
        public Builder maxSteps(int v) { this.maxSteps = v; return this; }
        public Builder maxTokens(int v) { this.maxTokens = v; return this; }
        public Builder textHiddenSize(int v) { this.textHiddenSize = v; return this; }
        public Builder supportsGuidance(boolean v) { this.supportsGuidance = v; return this; }
        public Builder hasRefiner(boolean v) { this.hasRefiner = v; return this; }
        public Builder supportsImageInput(boolean v) { this.supportsImageInput = v; return this; }
        public Builder precision(Precision v) { this.precision = v; return this; }
        public Builder device(Device v) { this.device = v; return this; }

        public ModelInfo build() {
            return new ModelInfo(this);
        }
    }
}
