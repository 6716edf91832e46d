package dev.instaflow;

/** The stages of one generation, in the order they run. {@link #key()} is the name used in JSON output. */
public enum Stage {
    /** Text to token ids. */
    TOKENIZE("tokenize"),
    /** Token ids to prompt embeddings (the text encoder part). */
    TEXT_ENCODER("text_encoder"),
    /** Initial latent noise: drawn from the seed on the CPU, or the caller's, moved to the device. */
    NOISE("noise"),
    /** The sampler's loop over the denoiser (and refiner) part. */
    DENOISE("denoise"),
    /** Latents to pixels (the VAE decoder part) and the uint8 quantisation. */
    DECODE("decode"),
    /** The one copy of the uint8 pixels into {@link java.awt.image.BufferedImage}s. */
    TO_IMAGE("to_image"),
    /** The whole call. */
    TOTAL("total");

    private final String key;

    Stage(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }
}
