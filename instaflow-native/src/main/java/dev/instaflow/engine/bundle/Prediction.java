package dev.instaflow.engine.bundle;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonObject;
import dev.instaflow.InvalidModelException;
import dev.instaflow.ModelInfo;
import dev.instaflow.Sampler;

import java.nio.file.Path;

/**
 * The model family as the pipeline sees it: what the denoiser predicts, with exactly the constants that prediction
 * needs. It owns its manifest fields ({@code prediction.*}), the timestep the load-time probe feeds the denoiser, whether
 * classifier-free guidance applies, and which default settings it admits; code elsewhere asks it instead of switching
 * on {@link ModelInfo.Prediction}.
 */
@EntryPoint("the model family in the manifest: training's export, tooling")
public sealed interface Prediction permits Prediction.Velocity, Prediction.Epsilon {
    /** The manifest's {@code prediction.type}. */
    ModelInfo.Prediction type();

    /** The timestep fed to the denoiser by the load-time probe: the first one a generation uses. */
    double probeTimestep();

    /** Whether classifier-free guidance (and so a negative prompt) applies. */
    boolean supportsGuidance();

    /** A one-line description for people ("velocity, denoiser time = 1000 x (1 - s)"). */
    String describe();

    /** Writes the {@code prediction} section's fields. */
    void writeTo(JsonObject section);

    /**
     * Checks that the default sampling settings make a valid generation for this family.
     *
     * @throws InvalidModelException naming {@code file} and the sampling field
     */
    void checkDefaults(Path file, BundleManifest.Sampling sampling);

    /**
     * A rectified flow (InstaFlow, 2-Rectified Flow): the denoiser returns the velocity from noise to data, and is fed
     * {@code timeScale · (1 − s)} at paper time s (0 = noise).
     */
    record Velocity(double timeScale) implements Prediction {
        public Velocity {
            if (!(timeScale > 0) || !Double.isFinite(timeScale)) {
                throw new IllegalArgumentException("time scale must be a finite number > 0, got " + timeScale);
            }
        }

        @Override
        public ModelInfo.Prediction type() {
            return ModelInfo.Prediction.VELOCITY;
        }

        @Override
        public double probeTimestep() {
            return timeScale;
        }

        @Override
        public boolean supportsGuidance() {
            return true;
        }

        @Override
        public String describe() {
            return "velocity, denoiser time = " + timeScale + " x (1 - s)";
        }

        @Override
        public void writeTo(JsonObject section) {
            section.addProperty("type", type().id());
            section.addProperty("time_scale", timeScale);
        }

        @Override
        public void checkDefaults(Path file, BundleManifest.Sampling sampling) {
        }
    }

    /**
     * A one-step noise-predicting student (SwiftBrush): the denoiser returns DDPM noise at a fixed timestep, and
     * {@code x0 = (z − √(1−ā)·ε)/√ā} is read once in closed form.
     */
    record Epsilon(double timestep, double alphaBar) implements Prediction {
        public Epsilon {
            if (!(timestep >= 0) || !Double.isFinite(timestep)) {
                throw new IllegalArgumentException("timestep must be a finite number >= 0, got " + timestep);
            }
            if (!(alphaBar > 0 && alphaBar < 1)) {
                throw new IllegalArgumentException("alpha_bar must lie strictly between 0 and 1, got " + alphaBar);
            }
        }

        @Override
        public ModelInfo.Prediction type() {
            return ModelInfo.Prediction.EPSILON;
        }

        @Override
        public double probeTimestep() {
            return timestep;
        }

        @Override
        public boolean supportsGuidance() {
            return false;
        }

        @Override
        public String describe() {
            return "epsilon at timestep " + timestep + ", alpha_bar " + alphaBar;
        }

        @Override
        public void writeTo(JsonObject section) {
            section.addProperty("type", type().id());
            section.addProperty("timestep", timestep);
            section.addProperty("alpha_bar", alphaBar);
        }

        @Override
        public void checkDefaults(Path file, BundleManifest.Sampling sampling) {
            if (!(sampling.sampler() instanceof Sampler.Euler)) {
                throw new InvalidModelException(file, "sampling.sampler", "an epsilon (one-step, SwiftBrush-style)"
                        + " model samples with euler in one step; got " + sampling.sampler());
            }
            if (sampling.steps() != 1) {
                throw new InvalidModelException(file, "sampling.steps", "an epsilon (one-step, SwiftBrush-style)"
                        + " model takes exactly 1 step; got " + sampling.steps());
            }
            if (sampling.guidance() > 1) {
                throw new InvalidModelException(file, "sampling.guidance", "an epsilon (one-step, SwiftBrush-style)"
                        + " model takes no guidance; expected a value <= 1, got " + sampling.guidance());
            }
        }
    }

    /** Reads the {@code prediction} section. */
    static Prediction read(JsonFields p) {
        String type = p.string("type");
        ModelInfo.Prediction parsed = java.util.Arrays.stream(ModelInfo.Prediction.values())
                .filter(t -> t.id().equals(type.trim().toLowerCase(java.util.Locale.ROOT))).findFirst()
                .orElseThrow(() -> p.error("type", "prediction type '" + type + "' is not one of velocity, epsilon"));
        if (parsed == ModelInfo.Prediction.VELOCITY) {
            return new Velocity(p.number("time_scale", ManifestReader.MIN_TIME_SCALE, ManifestReader.MAX_TIME_SCALE,
                    "InstaFlow and 2-Rectified Flow use 1000, flows on t in [0, 1] use 1"));
        }
        double timestep = p.number("timestep", 0, ManifestReader.MAX_TIME_SCALE, "SwiftBrush uses 999");
        double alphaBar = p.number("alpha_bar");
        if (!(alphaBar > 0 && alphaBar < 1)) {
            throw p.error("alpha_bar", "expected a cumulative alpha strictly between 0 and 1, got " + alphaBar);
        }
        return new Epsilon(timestep, alphaBar);
    }
}
