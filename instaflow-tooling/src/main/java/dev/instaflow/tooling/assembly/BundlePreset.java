package dev.instaflow.tooling.assembly;

import dev.instaflow.Sampler;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.Prediction;

import java.util.Locale;

/**
 * What a model family's bundle says that cannot be learned by running its parts: prediction type and time
 * convention, the VAE scaling factor, and recommended sampling defaults (inference-spec §2.3, §4).
 */
public enum BundlePreset {
    /** InstaFlow-0.9B: one Euler step at t = 1000, no guidance. */
    INSTAFLOW("instaflow", new Prediction.Velocity(1000.0), 1, 0.0),
    /** 2-Rectified Flow: a few Euler steps (2-8) with guidance 1-2. */
    RECTIFIED_FLOW("rectified-flow", new Prediction.Velocity(1000.0), 4, 1.5),
    /** SwiftBrush (SD 2.1-base student): epsilon at t = 999, x0 with alpha_bar 0.0047, one step, no guidance. */
    SWIFTBRUSH("swiftbrush", new Prediction.Epsilon(999, 0.0047), 1, 0.0);

    /** Stable Diffusion's VAE scaling factor (SD 1.5, SD 2.1 and the ft-EMA/MSE VAEs). */
    public static final double SD_SCALING_FACTOR = 0.18215;
    /** SD's default latent side (the UNet's sample_size); the default image side is this times the VAE factor. */
    public static final int DEFAULT_LATENT_SIDE = 64;

    private final String id;
    private final Prediction prediction;
    private final int steps;
    private final double guidance;

    BundlePreset(String id, Prediction prediction, int steps, double guidance) {
        this.id = id;
        this.prediction = prediction;
        this.steps = steps;
        this.guidance = guidance;
    }

    public String id() {
        return id;
    }

    public Prediction prediction() {
        return prediction;
    }

    public Sampler sampler() {
        return Sampler.euler();
    }

    public int steps() {
        return steps;
    }

    public double guidance() {
        return guidance;
    }

    public double scalingFactor() {
        return SD_SCALING_FACTOR;
    }

    /** Parses {@code instaflow}, {@code rectified-flow} (or {@code 2rf}), {@code swiftbrush}. */
    public static BundlePreset parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        for (BundlePreset p : values()) {
            if (p.id.equals(t)) {
                return p;
            }
        }
        if (t.equals("2rf") || t.equals("2-rectified-flow") || t.equals("rectified_flow")) {
            return RECTIFIED_FLOW;
        }
        throw new IllegalArgumentException("preset '" + text + "' is not one of instaflow, rectified-flow, swiftbrush");
    }

    @Override
    public String toString() {
        return id;
    }
}
