package dev.instaflow;

import java.util.Locale;

/** What a bundle's denoiser part predicts, from the manifest's {@code prediction.type}. */
public enum PredictionType {
    /**
     * A rectified-flow velocity from noise towards data (InstaFlow, 2-Rectified Flow). The denoiser sees the
     * timestep {@code time_scale * (1 - s)} for paper time s (0 = noise); samplers integrate {@code x += dt * v}.
     */
    VELOCITY("velocity"),
    /**
     * DDPM noise at a fixed timestep, read once as {@code x0 = (z - sqrt(1 - a) * eps) / sqrt(a)} (SwiftBrush).
     * One step, no guidance.
     */
    EPSILON("epsilon");

    private final String id;

    PredictionType(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** @throws IllegalArgumentException for anything but {@code velocity} or {@code epsilon} */
    public static PredictionType parse(String text) {
        for (PredictionType t : values()) {
            if (t.id.equals(text.trim().toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("prediction type '" + text + "' is not one of velocity, epsilon");
    }

    @Override
    public String toString() {
        return id;
    }
}
