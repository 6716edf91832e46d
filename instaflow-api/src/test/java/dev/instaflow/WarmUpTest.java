package dev.instaflow;

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
    static final class RecordingEngine extends TestEngine {
        final Device device;
        final List<GenerationSettings> plans = new ArrayList<>();
        boolean failGenerations;

        RecordingEngine(Device device) {
            this.device = device;
        }

        @Override
        ModelInfo info(Path directory) {
            return RequestResolverTest.model().device(device).defaultGuidance(1.5).defaultSteps(4).build();
        }

        @Override
        List<Generation> generate(List<GenerationSettings> batch, Monitor monitor) {
            plans.addAll(batch);
            if (failGenerations) {
                throw new InferenceException("the denoiser part (x.pt) failed: boom", null);
            }
            return batch.stream().map(g -> TestEngine.blank(g, 1)).toList();
        }
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
