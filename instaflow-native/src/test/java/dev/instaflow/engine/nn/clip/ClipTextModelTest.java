package dev.instaflow.engine.nn.clip;

import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.nn.Activation;
import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.snapshot.ComponentWeights;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java-built CLIP text encoder against the fixtures' reference runs (tiny-sd15: quick_gelu, 32 wide, 2 layers;
 * tiny-sd21: exact gelu, 48 wide, 3 layers, per-layer hidden states), and its load-time and call-time errors.
 */
class ClipTextModelTest {
    /** Every comparison with a reference tensor: max |Δ| at most this. */
    static final double TOLERANCE = 1e-5;

    @TempDir
    Path temp;

    @BeforeAll
    static void natives() {
        TorchRuntime.ensureLoaded();
        TorchRuntime.setIntraOpThreads(Integer.getInteger("instaflow.test.threads", 1));
    }

    static Path textEncoder(Path fixture) {
        return fixture.resolve("model/text_encoder");
    }

    static StateDict weights(Path folder) {
        return ComponentWeights.load("text encoder", folder, "model", Optional.empty(), t -> t);
    }

    @Test
    void tinySd15MatchesEveryReferenceCase() throws IOException {
        Path folder = textEncoder(SharedFixtures.tinySd15());
        List<String> cases;
        try (Stream<Path> list = Files.list(SharedFixtures.tinySd15().resolve("ref"))) {
            cases = list.filter(p -> Files.isRegularFile(p.resolve("manifest.json")))
                    .map(p -> p.getFileName().toString()).sorted().toList();
        }
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode();
             StateDict dict = weights(folder)) {
            ClipTextConfig config = ClipTextConfig.read(folder.resolve("config.json"));
            assertEquals(Activation.QUICK_GELU, config.activation());
            ClipTextModel model = ClipTextModel.build(config, dict, folder);
            dict.requireAllTaken();
            int compared = 0;
            double worst = 0;
            for (String name : cases) {
                ReferenceCase c = ReferenceCase.load(name);
                for (String[] pair : new String[][] {{"input_ids_prompt", "prompt_embeds"},
                        {"input_ids_negative", "negative_prompt_embeds"}}) {
                    if (!c.has(pair[0])) {
                        continue;
                    }
                    double d = maxDiff(c, pair[1], model.encode(ids(c, pair[0])));
                    System.out.printf("tiny-sd15 %-24s %-24s max|Δ| %.3g%n", name, pair[1], d);
                    assertTrue(d <= TOLERANCE, name + " " + pair[1] + ": max |Δ| " + d);
                    worst = Math.max(worst, d);
                    compared++;
                }
            }
            System.out.printf("tiny-sd15: %d embeddings compared, max|Δ| %.3g%n", compared, worst);
            assertTrue(compared >= 11, "compared only " + compared + " embeddings");
        }
    }

    @Test
    void tinySd21MatchesEveryLayerAndTheEmbeddings() {
        Path folder = textEncoder(SharedFixtures.tinySd21());
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode();
             StateDict dict = weights(folder)) {
            ClipTextConfig config = ClipTextConfig.read(folder.resolve("config.json"));
            assertEquals(Activation.GELU, config.activation());
            assertEquals(48, config.hiddenSize());
            assertEquals(3, config.layers());
            ClipTextModel model = ClipTextModel.build(config, dict, folder);
            dict.requireAllTaken();

            ReferenceCase rf = ReferenceCase.at(SharedFixtures.tinySd21Case("rf_n2_cfg1.5"));
            ReferenceCase debug = ReferenceCase.at(rf.folder().resolve("debug"));
            Tensor prompt = ids(rf, "input_ids_prompt");
            List<Tensor> states = model.hiddenStates(prompt);
            assertEquals(config.layers() + 1, states.size());
            double worst = 0;
            for (int k = 0; k < states.size(); k++) {
                double d = maxDiff(debug, "text_hidden_states_" + k, states.get(k));
                System.out.printf("tiny-sd21 text_hidden_states_%d max|Δ| %.3g%n", k, d);
                assertTrue(d <= TOLERANCE, "layer " + k + ": max |Δ| " + d);
                worst = Math.max(worst, d);
            }
            Tensor last = model.encode(prompt);
            for (String[] check : new String[][] {{"debug", "text_last_hidden_state"}, {"rf", "prompt_embeds"}}) {
                double d = maxDiff(check[0].equals("debug") ? debug : rf, check[1], last);
                System.out.printf("tiny-sd21 %-24s max|Δ| %.3g%n", check[1], d);
                assertTrue(d <= TOLERANCE, check[1] + ": max |Δ| " + d);
                worst = Math.max(worst, d);
            }
            double negative = maxDiff(rf, "negative_prompt_embeds", model.encode(ids(rf, "input_ids_negative")));
            ReferenceCase eps = ReferenceCase.at(SharedFixtures.tinySd21Case("swiftbrush_eps_n1"));
            double fox = maxDiff(eps, "prompt_embeds", model.encode(ids(eps, "input_ids_prompt")));
            System.out.printf("tiny-sd21 negative_prompt_embeds max|Δ| %.3g, swiftbrush prompt_embeds max|Δ| %.3g%n",
                    negative, fox);
            assertTrue(negative <= TOLERANCE && fox <= TOLERANCE, negative + " / " + fox);
            worst = Math.max(worst, Math.max(negative, fox));
            System.out.printf("tiny-sd21: max|Δ| %.3g%n", worst);

            // The pair as one batch [negative, prompt], as the CFG pipeline feeds it: rows equal the single calls.
            Tensor both = torch.cat(new org.bytedeco.pytorch.TensorVector(ids(rf, "input_ids_negative"), prompt));
            Tensor batched = model.encode(both);
            assertArrayEquals(new long[] {2, 77, 48}, Tensors.shape(batched));
            assertTrue(maxDiff(rf, "prompt_embeds", batched.narrow(0, 1, 1)) <= TOLERANCE);
            assertTrue(maxDiff(rf, "negative_prompt_embeds", batched.narrow(0, 0, 1)) <= TOLERANCE);
        }
    }

    @Test
    void unsupportedActivationFailsNamingTheField() throws IOException {
        Path config = editedConfig(SharedFixtures.tinySd21(), "\"hidden_act\": \"gelu\"", "\"hidden_act\": \"relu\"");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ClipTextConfig.read(config));
        assertEquals(Optional.of("hidden_act"), e.field());
        assertEquals(config, e.file());
        assertTrue(e.getMessage().contains("relu") && e.getMessage().contains("quick_gelu"), e.getMessage());
    }

    @Test
    void unsupportedArchitectureAndHeadsThatDoNotDivideFail() throws IOException {
        Path vision = editedConfig(SharedFixtures.tinySd15(), "\"CLIPTextModel\"", "\"CLIPVisionModel\"");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ClipTextConfig.read(vision));
        assertEquals(Optional.of("architectures"), e.field());
        assertTrue(e.getMessage().contains("CLIPVisionModel")
                && e.getMessage().contains("CLIPTextModelWithProjection"), e.getMessage());

        Path heads = editedConfig(SharedFixtures.tinySd15(), "\"num_attention_heads\": 4", "\"num_attention_heads\": 5");
        e = assertThrows(InvalidModelException.class, () -> ClipTextConfig.read(heads));
        assertEquals(Optional.of("num_attention_heads"), e.field());
        assertTrue(e.getMessage().contains("32"), e.getMessage());

        Path missing = editedConfig(SharedFixtures.tinySd15(), "\"vocab_size\"", "\"vocabulary\"");
        e = assertThrows(InvalidModelException.class, () -> ClipTextConfig.read(missing));
        assertEquals(Optional.of("vocab_size"), e.field());
    }

    @Test
    void absentActivationAndEpsilonTakeTransformersDefaults() throws IOException {
        Path config = editedConfig(SharedFixtures.tinySd21(), "\"hidden_act\": \"gelu\",", "");
        String text = Files.readString(config).replace("\"layer_norm_eps\": 1e-05,", "");
        Files.writeString(config, text);
        ClipTextConfig c = ClipTextConfig.read(config);
        assertEquals(Activation.QUICK_GELU, c.activation());
        assertEquals(1e-5, c.layerNormEps());
        assertEquals(ClipTextConfig.TEXT_MODEL, c.architecture());
        assertEquals(12, c.headDim());
    }

    @Test
    void wrongWeightShapeFailsNamingTheKey() throws IOException {
        Path fixture = textEncoder(SharedFixtures.tinySd15());
        Path config = editedConfig(SharedFixtures.tinySd15(), "\"intermediate_size\": 37",
                "\"intermediate_size\": 38");
        try (PointerScope scope = new PointerScope(); StateDict dict = weights(fixture)) {
            ClipTextConfig c = ClipTextConfig.read(config);
            InvalidModelException e = assertThrows(InvalidModelException.class,
                    () -> ClipTextModel.build(c, dict, fixture));
            assertEquals(Optional.of("text_model.encoder.layers.0.mlp.fc1.weight"), e.field());
            assertEquals(fixture.resolve("model.safetensors"), e.file());
            assertTrue(e.getMessage().contains("[37, 32]") && e.getMessage().contains("[38, 32]"), e.getMessage());
        }
    }

    @Test
    void unexpectedKeyFailsUnlessItIsOneTheModelIgnores() throws IOException {
        Path folder = textEncoder(SharedFixtures.tinySd15());
        Path file = folder.resolve("model.safetensors");
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            // position_ids (a buffer older checkpoints store) is ignored; text_projection only with the projection class.
            try (StateDict dict = weights(folder)) {
                dict.put("text_model.embeddings.position_ids", torch.arange(new org.bytedeco.pytorch.Scalar(77))
                        .view(1, 77), file);
                dict.put("text_projection.weight", torch.zeros(32, 32), file);
                ClipTextModel.build(ClipTextConfig.read(folder.resolve("config.json")), dict, folder);
                InvalidModelException e = assertThrows(InvalidModelException.class, dict::requireAllTaken);
                assertEquals(Optional.of("text_projection.weight"), e.field());
                assertTrue(e.getMessage().contains("unexpected"), e.getMessage());
            }
            Path projection = editedConfig(SharedFixtures.tinySd15(), "\"CLIPTextModel\"",
                    "\"CLIPTextModelWithProjection\"");
            try (StateDict dict = weights(folder)) {
                dict.put("text_projection.weight", torch.zeros(32, 32), file);
                ClipTextConfig config = ClipTextConfig.read(projection);
                assertTrue(config.withProjection());
                ClipTextModel.build(config, dict, folder);
                dict.requireAllTaken();
            }
            try (StateDict dict = weights(folder)) {
                dict.put("text_model.encoder.layers.2.mlp.fc1.weight", torch.zeros(37, 32), file);
                ClipTextModel.build(ClipTextConfig.read(folder.resolve("config.json")), dict, folder);
                InvalidModelException e = assertThrows(InvalidModelException.class, dict::requireAllTaken);
                assertEquals(Optional.of("text_model.encoder.layers.2.mlp.fc1.weight"), e.field());
            }
        }
    }

    @Test
    void badIdsFailInJavaAndUseAfterCloseFails() {
        Path folder = textEncoder(SharedFixtures.tinySd15());
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode();
             StateDict dict = weights(folder)) {
            ClipTextConfig config = ClipTextConfig.read(folder.resolve("config.json"));
            ClipTextModel model = ClipTextModel.build(config, dict, folder);
            long[] good = new long[77];
            good[0] = 49406;
            good[1] = 49407;
            assertArrayEquals(new long[] {1, 77, 32}, Tensors.shape(model.encode(Tensors.fromLongs(good, 1, 77))));

            long[] high = good.clone();
            high[5] = config.vocabSize();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.encode(Tensors.fromLongs(high, 1, 77)));
            assertTrue(e.getMessage().contains("49408"), e.getMessage());
            long[] negative = good.clone();
            negative[3] = -1;
            e = assertThrows(IllegalArgumentException.class, () -> model.encode(Tensors.fromLongs(negative, 1, 77)));
            assertTrue(e.getMessage().contains("-1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> model.encode(Tensors.fromLongs(new long[78], 1, 78)));
            assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.encode(Tensors.fromLongs(good, 77)));
            assertThrows(IllegalArgumentException.class,
                    () -> model.encode(Tensors.fromLongs(good, 1, 77).to(ScalarType.Int)));
            assertThrows(IllegalArgumentException.class, () -> model.encode(torch.zeros(new long[] {1, 77},
                    new TensorOptions(ScalarType.Float))));

            Tensor ids = Tensors.fromLongs(good, 1, 77);
            model.close();
            model.close();
            assertThrows(IllegalStateException.class, () -> model.encode(ids));
            assertThrows(IllegalStateException.class, () -> model.hiddenStates(ids));
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private Path editedConfig(Path fixture, String from, String to) throws IOException {
        String text = Files.readString(textEncoder(fixture).resolve("config.json"));
        assertTrue(text.contains(from), "fixture config has no " + from);
        Path dir = Files.createDirectories(temp.resolve("edited-" + Math.abs((from + to).hashCode())));
        Path config = dir.resolve("config.json");
        Files.writeString(config, text.replace(from, to));
        return config;
    }

    private static Tensor ids(ReferenceCase c, String name) {
        return Tensors.fromLongs(c.longs(name), c.shape(name));
    }

    private static double maxDiff(ReferenceCase c, String name, Tensor actual) {
        assertArrayEquals(c.shape(name), Tensors.shape(actual), "shape of " + name);
        float[] expected = c.floats(name);
        float[] values = Tensors.toFloats(actual);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - values[i]);
            if (Double.isNaN(d)) {
                return Double.POSITIVE_INFINITY;
            }
            max = Math.max(max, d);
        }
        return max;
    }
}
