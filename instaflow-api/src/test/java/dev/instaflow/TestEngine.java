package dev.instaflow;

import dev.instaflow.spi.Engine;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An engine for the API's tests: one model described by {@link #info}, whose generations are whatever
 * {@link #generate} does; it records whether the model was closed.
 */
abstract class TestEngine implements Engine {
    volatile boolean closed;

    /** The model's description; {@code directory} is the path given to load. */
    abstract ModelInfo info(Path directory);

    /** What the model's {@link LoadedModel#generate} does. */
    abstract List<Generation> generate(List<GenerationSettings> batch, Monitor monitor);

    @Override
    public String name() {
        return getClass().getSimpleName();
    }

    @Override
    public void configure(RuntimeSettings settings) {
    }

    @Override
    public LoadedModel load(Path directory, LoadOptions options) {
        ModelInfo info = info(directory);
        return new LoadedModel() {
            @Override
            public ModelInfo info() {
                return info;
            }

            @Override
            public List<Generation> generate(List<GenerationSettings> batch, Monitor monitor) {
                return TestEngine.this.generate(batch, monitor);
            }

            @Override
            public void close() {
                closed = true;
            }
        };
    }

    /** A generation of black images, as many as {@code settings} asks for. */
    static Generation blank(GenerationSettings settings, int denoiserEvaluations) {
        List<BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < settings.batchSize(); i++) {
            images.add(new BufferedImage(settings.width(), settings.height(), BufferedImage.TYPE_3BYTE_BGR));
        }
        List<Generation.PromptTokens> tokens = settings.prompts().stream()
                .map(p -> new Generation.PromptTokens(p, 1, 1)).toList();
        return new Generation(images, settings, tokens, new Generation.Timings(Map.of(), Duration.ZERO),
                denoiserEvaluations, 0);
    }
}
