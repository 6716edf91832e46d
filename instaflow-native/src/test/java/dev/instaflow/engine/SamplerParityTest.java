package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.Sampler;
import dev.instaflow.engine.testing.ParityAssertions;
import dev.instaflow.engine.testing.RecordingTrace;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.TinyBundle;
import dev.instaflow.GenerationSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The SwiftBrush and FlowTurbo reference runs of {@code tiny-sd15/ref} (README-samplers.md), every saved intermediate
 * compared: the time grid, every UNet and refiner call's inputs and outputs, d0 / x~ / d1 per step, the carried
 * velocities, latents, decoder input and output, images.
 */
class SamplerParityTest {
    @TempDir
    Path temp;

    private static GenerationSettings plan(ReferenceCase c, Sampler sampler) {
        return Plans.plan(List.of(c.prompt()), "", c.guidance() > 1, c.guidance(), c.seed(), Optional.empty(),
                c.width(), c.height(), 1, sampler, c.steps());
    }

    private static Generation check(TorchModel model, String caseName, Sampler sampler, Set<String> large) {
        ReferenceCase reference = ReferenceCase.load(caseName);
        RecordingTrace trace = new RecordingTrace();
        Generation g = Plans.run(model, plan(reference, sampler), trace);
        Map<String, Double> errors = ParityAssertions.assertMatches(reference, trace, large);
        int pixels = ParityAssertions.assertImagesMatch(reference, g);
        System.out.printf("%s: max |diff| per tensor%n%s  BufferedImage vs image_uint8: %d levels%n", caseName,
                ParityAssertions.describe(errors), pixels);
        return g;
    }

    @Test
    void swiftBrushOneStepEpsilon() {
        try (TorchModel model = TorchModel.load(TinyBundle.asEpsilonModel(temp.resolve("eps")),
                TestSettings.loadOptions())) {
            Generation g = check(model, "swiftbrush_eps_n1", Sampler.euler(),
                    Set.of("latents_after_step0", "final_latents", "vae_in_latents"));
            assertEquals(1, g.denoiserEvaluations());
        }
    }

    @Test
    void flowTurboHeunAndPseudoCorrector() {
        try (TorchModel model = TorchModel.load(TinyBundle.create(temp.resolve("rf")), TestSettings.loadOptions())) {
            Generation g = check(model, "flowturbo_h1p2_cfg1.5", Sampler.flowTurbo(1, 2, 0), Set.of());
            assertEquals(4, g.denoiserEvaluations(), "H costs 2 evaluations, each P one");
            assertEquals(0, g.refinerEvaluations());
        }
    }

    @Test
    void flowTurboWithTheVelocityRefiner() {
        try (TorchModel model = TorchModel.load(TinyBundle.withRefiner(temp.resolve("refined")),
                TestSettings.loadOptions())) {
            Generation g = check(model, "flowturbo_h1p1r2_cfg1.5", Sampler.flowTurbo(1, 1, 2), Set.of());
            assertEquals(3, g.denoiserEvaluations(), "R steps call no denoiser");
            assertEquals(4, g.refinerEvaluations(), "each R step calls the refiner twice");
        }
    }
}
