package dev.instaflow;

/**
 * Where a generation stands, as given to the progress listener of {@link GenerationCall#execute(java.util.function.Consumer)}.
 *
 * @param stage      the stage that just finished a unit of work
 * @param step       for {@link Stage#DENOISE}, the number of sampler steps done so far (1-based); 0 for every other
 *                   stage
 * @param totalSteps the sampler's number of steps
 */
public record Progress(Stage stage, int step, int totalSteps) {
    public Progress {
        java.util.Objects.requireNonNull(stage, "stage");
        if (stage != Stage.DENOISE && step != 0 || step < 0 || step > totalSteps) {
            throw new IllegalArgumentException("progress step " + step + "/" + totalSteps + " at stage " + stage
                    + "; expected 1.." + totalSteps + " while denoising and 0 otherwise");
        }
    }

    /** The stages of one generation, in the order they run. {@link #key()} is the name used in JSON output. */
    public enum Stage {
        /** Text to token ids. */
        TOKENIZE("tokenize"),
        /** Token ids to prompt embeddings (the text encoder). */
        TEXT_ENCODER("text_encoder"),
        /** Initial latents: noise drawn from the seed on the CPU (or the caller's), moved to the device; with an init
         *  image, its encoding and the start point. */
        NOISE("noise"),
        /** The sampler's loop over the denoiser (and refiner). */
        DENOISE("denoise"),
        /** Latents to pixels (the VAE decoder) and the uint8 quantisation. */
        DECODE("decode"),
        /** The one copy of the uint8 pixels into {@link java.awt.image.BufferedImage}s. */
        TO_IMAGE("to_image");

        private final String key;

        Stage(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    @Override
    public String toString() {
        return stage == Stage.DENOISE ? stage.key() + " step " + step + "/" + totalSteps : stage.key();
    }
}
