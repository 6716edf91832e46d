package dev.instaflow.train.training;

import dev.instaflow.train.TestSupport;
import dev.instaflow.train.data.CaptionSplit;
import dev.instaflow.train.model.ModelConfig;
import dev.instaflow.train.model.TextEncoderNetwork;
import dev.instaflow.train.model.VelocityNetwork;
import dev.instaflow.train.tokenizer.CaptionIds;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A few steps of 1-RF training on tiny networks: the loss falls, and a resumed run continues exactly. */
class SmokeTrainingTest {
    private static final ModelConfig TINY = ModelConfig.tiny();

    @TempDir
    Path temp;

    @BeforeAll
    static void torch() {
        TestSupport.torchForTests();
    }

    private static NetworkPair fresh(CaptionIds ids) {
        return new NetworkPair(
                TrainableModule.of(TextEncoderNetwork.build(TINY, ids.usedIds(), ids.framing().padId(), 1)),
                TrainableModule.of(VelocityNetwork.build(TINY, 2)));
    }

    private static TrainingSpec spec(int steps) {
        return new TrainingSpec("smoke", steps, 3e-3, 5, 0.9, TimeSampling.UNIFORM, 1.0, 10, 5, 3);
    }

    @Test
    void lossFalls() throws java.io.IOException {
        CaptionIds ids = CaptionIds.load(TestSupport.shippedTokenizer());
        List<Double> losses = new ArrayList<>();
        Path stage = temp.resolve("rf1");
        try (NetworkPair average = FlowTrainer.train(spec(80), stage, () -> fresh(ids),
                new ShapeBatches(TINY, ids, CaptionSplit.training(), 16, 0.1, 5),
                (s, step, total, loss, seconds) -> losses.add(loss))) {
            assertTrue(average.denoiser().parameterCount() > 0);
        }
        assertEquals(80, losses.size());
        double first = losses.subList(0, 10).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double last = losses.subList(70, 80).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertTrue(last < 0.6 * first, "mean loss of the first 10 steps " + first + ", of the last 10 " + last);
        assertTrue(Files.isRegularFile(stage.resolve("loss.csv")));
        assertEquals(1 + 80 / 5, Files.readAllLines(stage.resolve("loss.csv")).size());
    }

    @Test
    void anInterruptedStageResumesWhereItsCheckpointWas() {
        CaptionIds ids = CaptionIds.load(TestSupport.shippedTokenizer());
        BatchSource source = new ShapeBatches(TINY, ids, CaptionSplit.training(), 8, 0.1, 5);

        List<Double> straight = new ArrayList<>();
        try (NetworkPair ignored = FlowTrainer.train(spec(20), temp.resolve("straight"), () -> fresh(ids), source,
                (s, step, total, loss, seconds) -> straight.add(loss))) {
            assertEquals(20, straight.size());
        }

        Path stage = temp.resolve("interrupted");
        RuntimeException crash = new RuntimeException("simulated crash");
        assertThrows(RuntimeException.class, () -> FlowTrainer.train(spec(20), stage, () -> fresh(ids), source,
                (s, step, total, loss, seconds) -> {
                    if (step == 13) {
                        throw crash;
                    }
                }));
        assertEquals(10, Checkpoint.state(stage).orElseThrow().step(), "the last checkpoint was at step 10");
        List<Double> resumed = new ArrayList<>();
        try (NetworkPair ignored = FlowTrainer.train(spec(20), stage, () -> {
            throw new AssertionError("a resumed stage must not start from scratch");
        }, source, (s, step, total, loss, seconds) -> resumed.add(loss))) {
            assertEquals(10, resumed.size());
        }
        for (int i = 0; i < 10; i++) {
            assertEquals(straight.get(10 + i), resumed.get(i), 1e-6 * Math.abs(straight.get(10 + i)),
                    "loss of step " + (11 + i));
        }
    }
}
