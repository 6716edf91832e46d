package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.LoadOptions;
import dev.instaflow.Sampler;
import dev.instaflow.engine.testing.ParityAssertions;
import dev.instaflow.engine.testing.RecordingTrace;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.SharedFixtures;
import dev.instaflow.GenerationSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The diffusers snapshots of the shared fixtures, loaded directly (networks built in Java from their configs,
 * weights from their safetensors), reproduce every reference case and every saved intermediate as the TorchScript
 * bundle does: tiny-sd15's InstaFlow, 2-RF, FlowTurbo (with and without the refiner) and SwiftBrush cases, and
 * tiny-sd21's velocity and epsilon cases (linear projections, per-block heads, gelu text encoder, pad id 0).
 */
class SnapshotParityTest {
    private static final Set<String> LARGE_X0 = Set.of("latents_after_step0", "final_latents", "vae_in_latents");

    @TempDir
    static Path temp;
    static TorchModel sd15;

    @BeforeAll
    static void load() {
        sd15 = TorchModel.load(SharedFixtures.tinySd15().resolve("model"), TestSettings.loadOptions());
    }

    @AfterAll
    static void close() {
        if (sd15 != null) {
            sd15.close();
        }
    }

    private static Generation check(TorchModel model, ReferenceCase reference, Sampler sampler, Set<String> large) {
        GenerationSettings plan = Plans.plan(List.of(reference.prompt()), "", reference.guidance() > 1,
                reference.guidance(), reference.seed(), Optional.empty(), reference.width(), reference.height(), 1,
                sampler, reference.steps());
        RecordingTrace trace = new RecordingTrace();
        Generation g = Plans.run(model, plan, trace);
        Map<String, Double> errors = ParityAssertions.assertMatches(reference, trace, large);
        int pixels = ParityAssertions.assertImagesMatch(reference, g);
        System.out.printf("snapshot %s: max |diff| per tensor%n%s  BufferedImage vs image_uint8: %d levels%n",
                reference.folder().getFileName(), ParityAssertions.describe(errors), pixels);
        return g;
    }

    private static Path settings(String name, String json) throws IOException {
        return Files.writeString(temp.resolve(name), json);
    }

    @ParameterizedTest
    @ValueSource(strings = {"instaflow_n1_nocfg", "instaflow_n1_cfg1.5", "rf2_n4_nocfg", "rf2_n4_cfg1.5"})
    void tinySd15VelocityCases(String caseName) {
        Generation g = check(sd15, ReferenceCase.load(caseName), Sampler.euler(), Set.of());
        assertEquals(ReferenceCase.load(caseName).steps(), g.denoiserEvaluations());
    }

    @Test
    void tinySd15FlowTurboHeunAndPseudoCorrector() {
        Generation g = check(sd15, ReferenceCase.load("flowturbo_h1p2_cfg1.5"), Sampler.flowTurbo(1, 2, 0), Set.of());
        assertEquals(4, g.denoiserEvaluations());
    }

    @Test
    void tinySd15FlowTurboWithARefinerNamedInInstaflowJson() throws IOException {
        Path snapshot = copy(SharedFixtures.tinySd15().resolve("model"), temp.resolve("sd15-refiner"));
        Files.copy(SharedFixtures.referenceCase("flowturbo_h1p1r2_cfg1.5").resolve("refiner.pt"),
                snapshot.resolve("refiner.pt"));
        Files.writeString(snapshot.resolve("instaflow.json"), "{\"parts\": {\"refiner\": \"refiner.pt\"}}");
        try (TorchModel model = TorchModel.load(snapshot, TestSettings.loadOptions())) {
            Generation g = check(model, ReferenceCase.load("flowturbo_h1p1r2_cfg1.5"), Sampler.flowTurbo(1, 1, 2),
                    Set.of());
            assertEquals(3, g.denoiserEvaluations());
            assertEquals(4, g.refinerEvaluations());
        }
    }

    @Test
    void tinySd15SwiftBrushEpsilonFromSettings() throws IOException {
        LoadOptions options = TestSettings.loadOptions().toBuilder().settings(settings("sd15-eps.json",
                "{\"prediction\": {\"type\": \"epsilon\", \"timestep\": 999, \"alpha_bar\": 0.0047}}")).build();
        try (TorchModel model = TorchModel.load(SharedFixtures.tinySd15().resolve("model"), options)) {
            check(model, ReferenceCase.load("swiftbrush_eps_n1"), Sampler.euler(), LARGE_X0);
        }
    }

    @Test
    void tinySd21VelocityCase() {
        try (TorchModel model = TorchModel.load(SharedFixtures.tinySd21().resolve("model"),
                TestSettings.loadOptions())) {
            Generation g = check(model, ReferenceCase.at(SharedFixtures.tinySd21Case("rf_n2_cfg1.5")),
                    Sampler.euler(), Set.of());
            assertEquals(2, g.denoiserEvaluations());
        }
    }

    @Test
    void tinySd21EpsilonCase() throws IOException {
        LoadOptions options = TestSettings.loadOptions().toBuilder().settings(settings("sd21-eps.json",
                "{\"prediction\": {\"type\": \"epsilon\", \"timestep\": 999, \"alpha_bar\": 0.0047}}")).build();
        try (TorchModel model = TorchModel.load(SharedFixtures.tinySd21().resolve("model"), options)) {
            check(model, ReferenceCase.at(SharedFixtures.tinySd21Case("swiftbrush_eps_n1")), Sampler.euler(),
                    LARGE_X0);
        }
    }

    static Path copy(Path source, Path target) throws IOException {
        try (Stream<Path> files = Files.walk(source)) {
            for (Path p : files.toList()) {
                Path t = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return target;
    }
}
