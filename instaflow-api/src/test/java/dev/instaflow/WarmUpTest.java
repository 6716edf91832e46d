package dev.instaflow;

import dev.instaflow.spi.Engine;
import dev.instaflow.spi.Engine.LoadedModel;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Load-time warm-up, observed through an engine that records what it is asked to generate. */
class WarmUpTest {
    /** An engine whose model records plans and can be told to fail. */
    static final class RecordingEngine implements Engine {
        final Device device;
        final List<GenerationSettings> plans = new ArrayList<>();
        boolean failGenerations;
        boolean closed;

        RecordingEngine(Device device) {
            this.device = device;
        }

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public void configure(RuntimeSettings settings) {
        }

        @Override
        public LoadedModel load(Path directory, LoadOptions options) {
            ModelInfo info = RequestResolverTest.model().device(device).defaultGuidance(1.5).defaultSteps(4).build();
            return new LoadedModel() {
                @Override
                public ModelInfo info() {
                    return info;
                }

                @Override
                public List<Generation> generate(List<GenerationSettings> batch, Engine.Monitor monitor) {
                    plans.addAll(batch);
                    if (failGenerations) {
                        throw new InferenceException("the denoiser part (x.pt) failed: boom", null);
                    }
                    return batch.stream().map(WarmUpTest::blank).toList();
                }

                @Override
                public void close() {
                    closed = true;
                }
            };
        }
    }

    /** A generation of black images, as many as {@code settings} asks for. */
    static Generation blank(GenerationSettings settings) {
        List<java.awt.image.BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < settings.batchSize(); i++) {
            images.add(new java.awt.image.BufferedImage(settings.width(), settings.height(),
                    java.awt.image.BufferedImage.TYPE_3BYTE_BGR));
        }
        List<Generation.PromptTokens> tokens = settings.prompts().stream()
                .map(p -> new Generation.PromptTokens(p, 0, 0)).toList();
        return new Generation(images, settings, tokens,
                new Generation.Timings(java.util.Map.of(), java.time.Duration.ZERO), 1, 0);
    }

    @Test
    void cudaModelsWarmUpWithTwoDefaultGenerationsByDefault() {
        RecordingEngine engine = new RecordingEngine(Device.cuda(0));
        InstaFlow.load(engine, Path.of("m"), LoadOptions.defaults()).close();
        assertEquals(2, engine.plans.size());
        GenerationSettings plan = engine.plans.get(0);
        assertEquals(4, plan.steps(), "the model's default steps");
        assertTrue(plan.guided(), "the model's default guidance 1.5 guides");
    }

    @Test
    void cpuModelsDoNotWarmUpByDefaultButCanBeAskedTo() {
        RecordingEngine quiet = new RecordingEngine(Device.cpu());
        InstaFlow.load(quiet, Path.of("m"), LoadOptions.defaults()).close();
        assertEquals(0, quiet.plans.size());

        RecordingEngine asked = new RecordingEngine(Device.cpu());
        InstaFlow.load(asked, Path.of("m"), LoadOptions.builder().warmUp(true).build()).close();
        assertEquals(2, asked.plans.size());

        RecordingEngine off = new RecordingEngine(Device.cuda(0));
        InstaFlow.load(off, Path.of("m"), LoadOptions.builder().warmUp(false).build()).close();
        assertEquals(0, off.plans.size());
    }

    @Test
    void aFailedWarmUpClosesTheModelAndFailsTheLoad() {
        RecordingEngine engine = new RecordingEngine(Device.cuda(0));
        engine.failGenerations = true;
        InferenceException e = assertThrows(InferenceException.class,
                () -> InstaFlow.load(engine, Path.of("m"), LoadOptions.defaults()));
        assertTrue(e.getMessage().contains("x.pt"));
        assertTrue(engine.closed, "no native memory is kept after a failed load");
    }
}
