package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.GenerationSettings;
import dev.instaflow.LatentNoise;
import dev.instaflow.Sampler;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.spi.Engine;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** Resolved settings written out by hand, as the parity tests need them, and one generation of them. */
public final class Plans {
    private Plans() {
    }

    /** Text-to-image settings; the negative prompt is dropped when not guided, the seed when noise is given. */
    public static GenerationSettings plan(List<String> prompts, String negative, boolean guided, double guidance,
                                          long seed, Optional<LatentNoise> noise, int width, int height,
                                          int imagesPerPrompt, Sampler sampler, int steps) {
        return new GenerationSettings(prompts, guided ? negative : "", guided, guidance,
                noise.isPresent() ? OptionalLong.empty() : OptionalLong.of(seed), noise, width, height,
                imagesPerPrompt, sampler, steps, Optional.empty());
    }

    /** One generation of {@code plan} alone, its intermediates to {@code trace}. */
    public static Generation run(TorchModel model, GenerationSettings plan, PipelineTrace trace) {
        return model.generate(List.of(plan), Engine.Monitor.NONE, trace).get(0);
    }
}
