package dev.instaflow;

import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The result of one generation: the images in batch order (each prompt's images consecutive), the settings that
 * were actually used ({@link #settings()}: the seed, also when it was drawn at random, the sampler, steps, guidance
 * and size, so that any image can be reproduced), how each prompt was tokenized, and timings per stage.
 *
 * @param images               the images, in batch order: prompt 0's images, then prompt 1's, and so on
 * @param settings             the resolved settings the images were made with
 * @param prompts              how each prompt was tokenized, in request order
 * @param timings              time per stage
 * @param denoiserEvaluations  calls of the denoiser network (each on the whole batch, doubled when guided)
 * @param refinerEvaluations   calls of the velocity refiner (FlowTurbo refiner steps)
 */
public record Generation(List<BufferedImage> images, GenerationSettings settings, List<PromptTokens> prompts,
                         Timings timings, int denoiserEvaluations, int refinerEvaluations) {
    public Generation {
        images = List.copyOf(images);
        prompts = List.copyOf(prompts);
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(timings, "timings");
        if (images.size() != settings.batchSize() || prompts.size() != settings.prompts().size()
                || denoiserEvaluations < 0 || refinerEvaluations < 0) {
            throw new IllegalArgumentException("inconsistent generation: " + images.size() + " image(s) and "
                    + prompts.size() + " tokenized prompt(s) for " + settings);
        }
    }

    /** The first image. */
    public BufferedImage image() {
        return images.get(0);
    }

    /** Whether any prompt was cut to the model's text window. */
    public boolean truncated() {
        return prompts.stream().anyMatch(PromptTokens::truncated);
    }

    @Override
    public String toString() {
        return "Generation{images=" + images.size() + ", " + settings + ", denoiserEvaluations="
                + denoiserEvaluations + ", refinerEvaluations=" + refinerEvaluations + ", " + timings + '}';
    }

    /**
     * How one prompt was tokenized.
     *
     * @param text       the prompt as given
     * @param tokenCount the number of text tokens before truncation (without the begin and end markers)
     * @param keptTokens the number of text tokens the model saw (at most the model's limit, 75 for CLIP)
     */
    public record PromptTokens(String text, int tokenCount, int keptTokens) {
        /** Whether tokens were cut because the prompt was longer than the model's text window. */
        public boolean truncated() {
            return keptTokens < tokenCount;
        }
    }

    /**
     * Time spent in each {@link Progress.Stage} of one generation, and in the whole call. On the CPU each stage is
     * wall-clock time. On a GPU the stages are intervals between CUDA events recorded on the generation's stream at
     * the stage boundaries, so they measure the device's work (and any time the device waited for the host);
     * {@link #total()} is always the wall-clock time of the whole call. A generation batched with others (see
     * {@code GenerationService}) reports the batch's stage times.
     *
     * @param stages time per stage; stages that did not run read as zero
     * @param total  the whole call
     */
    public record Timings(Map<Progress.Stage, Duration> stages, Duration total) {
        public Timings {
            stages = Map.copyOf(stages);
            Objects.requireNonNull(total, "total");
        }

        /** The time of {@code stage}, zero if it did not run. */
        public Duration of(Progress.Stage stage) {
            return stages.getOrDefault(stage, Duration.ZERO);
        }

        /** Milliseconds (fractional) per stage key in stage order, then {@code total}: the JSON form. */
        public Map<String, Double> toMillis() {
            Map<String, Double> m = new LinkedHashMap<>();
            for (Progress.Stage s : Progress.Stage.values()) {
                m.put(s.key(), of(s).toNanos() / 1e6);
            }
            m.put("total", total.toNanos() / 1e6);
            return m;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("Timings{");
            toMillis().forEach((k, v) -> sb.append(k).append('=').append(String.format(Locale.ROOT, "%.2f", v))
                    .append("ms, "));
            sb.setLength(sb.length() - 2);
            return sb.append('}').toString();
        }
    }
}
