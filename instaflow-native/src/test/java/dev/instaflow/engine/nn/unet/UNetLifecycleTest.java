package dev.instaflow.engine.nn.unet;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.instaflow.InvalidModelException;
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
import java.util.Optional;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weights that do not fit the config, bad inputs, use after close, a [1] timestep, another dtype. */
class UNetLifecycleTest {
    @TempDir
    Path temp;

    @BeforeAll
    static void natives() {
        TorchRuntime.ensureLoaded();
    }

    @Test
    void aConfigThatDoesNotFitTheWeightsFailsNamingTheKey() throws IOException {
        Path folder = copiedUnet(o -> o.add("cross_attention_dim", new JsonPrimitive(40)));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> build(folder));
        assertEquals(Optional.of("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"), e.field(),
                e.getMessage());
        assertTrue(e.getMessage().contains("[32, 32]") && e.getMessage().contains("[32, 40]"), e.getMessage());
        assertEquals(folder.resolve("diffusion_pytorch_model.safetensors"), e.file());
    }

    @Test
    void aConfigWithMoreLayersFailsNamingTheMissingKey() throws IOException {
        Path folder = copiedUnet(o -> o.add("layers_per_block", new JsonPrimitive(3)));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> build(folder));
        assertEquals(Optional.of("down_blocks.0.resnets.2.norm1.weight"), e.field(), e.getMessage());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void aConfigWithFewerHeadsStillLoadsButTheWrongHeadCountChangesTheOutput() throws IOException {
        // Heads do not change any weight shape: only the parity test can catch a wrong head count. Check it does.
        Path folder = copiedUnet(o -> o.add("attention_head_dim", new JsonPrimitive(4)));
        ReferenceCase c = ReferenceCase.at(SharedFixtures.tinySd15().resolve("ref/instaflow_n1_nocfg/debug"));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             UNetFixtures.Loaded loaded = UNetFixtures.load(folder)) {
            Tensor out = loaded.unet().predict(UNetFixtures.tensor(c, "unet_in_sample"),
                    UNetFixtures.tensor(c, "unet_in_timestep"), UNetFixtures.tensor(c, "unet_in_encoder_hidden_states"));
            float[] expected = c.floats("unet_conv_out");
            float[] actual = Tensors.toFloats(out);
            double max = 0;
            for (int i = 0; i < expected.length; i++) {
                max = Math.max(max, Math.abs(expected[i] - actual[i]));
            }
            assertTrue(max > 1e-3, "4 heads instead of 8 moved the output by only " + max);
        }
    }

    @Test
    void badInputsFailClearly() {
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             UNetFixtures.Loaded loaded = UNetFixtures.load(SharedFixtures.tinySd15().resolve("model/unet"))) {
            UNet2DConditionModel unet = loaded.unet();
            Tensor t = Tensors.fromFloats(new float[] {500f}, 1);
            Tensor text = zeros(1, 77, 32);
            IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                    () -> unet.predict(zeros(1, 4, 15, 16), t, text));
            assertTrue(odd.getMessage().contains("15x16") && odd.getMessage().contains("divisible by 2"),
                    odd.getMessage());
            IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                    () -> unet.predict(zeros(1, 4, 16, 16), t, zeros(1, 77, 48)));
            assertTrue(width.getMessage().contains("cross_attention_dim"), width.getMessage());
            assertThrows(IllegalArgumentException.class, () -> unet.predict(zeros(1, 3, 16, 16), t, text));
            assertThrows(IllegalArgumentException.class,
                    () -> unet.predict(zeros(2, 4, 16, 16), Tensors.fromFloats(new float[3], 3), zeros(2, 77, 32)));
        }
    }

    @Test
    void oneTimestepIsBroadcastToTheBatch() {
        ReferenceCase c = ReferenceCase.at(SharedFixtures.referenceCase("instaflow_n1_cfg1.5"));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             UNetFixtures.Loaded loaded = UNetFixtures.load(SharedFixtures.tinySd15().resolve("model/unet"))) {
            Tensor timesteps = UNetFixtures.tensor(c, "unet_in_timestep_step0");
            assertArrayEquals(new long[] {2}, Tensors.shape(timesteps));
            Tensor sample = UNetFixtures.tensor(c, "unet_in_sample_step0");
            Tensor text = UNetFixtures.tensor(c, "unet_in_encoder_hidden_states_step0");
            Tensor both = loaded.unet().predict(sample, timesteps, text);
            Tensor one = loaded.unet().predict(sample, timesteps.narrow(0, 0, 1), text);
            assertTrue(torch.equal(both, one));
        }
    }

    @Test
    void useAfterCloseFails() {
        try (PointerScope scope = new PointerScope()) {
            UNetFixtures.Loaded loaded = UNetFixtures.load(SharedFixtures.tinySd15().resolve("model/unet"));
            UNet2DConditionModel unet = loaded.unet();
            assertEquals("denoiser", unet.role());
            assertEquals("unet", unet.field());
            unet.close();
            unet.close();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> unet.predict(zeros(1, 4, 16, 16), Tensors.fromFloats(new float[] {1f}, 1), zeros(1, 77, 32)));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            loaded.close();
        }
    }

    @Test
    void float64WithUpcastAttentionMatchesFloat32() throws IOException {
        // A dtype other than float32 takes the dtype casts (time_proj -> sample dtype) and, with upcast_attention,
        // the float32 q·kᵀ/softmax path; the result must stay within float32 rounding of the float32 network.
        Path folder = copiedUnet(SharedFixtures.tinySd21().resolve("model/unet"),
                o -> o.add("upcast_attention", new JsonPrimitive(true)));
        ReferenceCase c = ReferenceCase.at(SharedFixtures.tinySd21Case("rf_n2_cfg1.5").resolve("debug"));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict weights = ComponentWeights.load("unet", folder, "diffusion_pytorch_model", Optional.empty(),
                     t -> t.to(ScalarType.Double))) {
            UNet2DConditionModel unet = UNet2DConditionModel.build(UNetConfig.read(folder.resolve("config.json")),
                    weights, folder);
            weights.requireAllTaken();
            Tensor out = unet.predict(UNetFixtures.tensor(c, "unet_in_sample").to(ScalarType.Double),
                    UNetFixtures.tensor(c, "unet_in_timestep"),
                    UNetFixtures.tensor(c, "unet_in_encoder_hidden_states").to(ScalarType.Double));
            assertEquals(ScalarType.Double, Tensors.dtype(out));
            float[] expected = c.floats("unet_conv_out");
            float[] actual = Tensors.toFloats(out);
            double max = 0;
            for (int i = 0; i < expected.length; i++) {
                max = Math.max(max, Math.abs(expected[i] - actual[i]));
            }
            System.out.printf("tiny-sd21 float64 + upcast_attention vs diffusers float32: max|d| %.3g%n", max);
            assertTrue(max < 1e-4, "max |d| " + max);
        }
    }

    private static void build(Path folder) {
        try (PointerScope scope = new PointerScope();
             StateDict weights = ComponentWeights.load("unet", folder, "diffusion_pytorch_model", Optional.empty(),
                     t -> t)) {
            UNet2DConditionModel.build(UNetConfig.read(folder.resolve("config.json")), weights, folder);
        }
    }

    private Path copiedUnet(Consumer<JsonObject> edit) throws IOException {
        return copiedUnet(SharedFixtures.tinySd15().resolve("model/unet"), edit);
    }

    /** A copy of the UNet folder {@code source} with its config edited. */
    private Path copiedUnet(Path source, Consumer<JsonObject> edit) throws IOException {
        Path folder = Files.createDirectories(temp.resolve("unet" + System.nanoTime()));
        Files.copy(source.resolve("diffusion_pytorch_model.safetensors"),
                folder.resolve("diffusion_pytorch_model.safetensors"));
        JsonObject o = JsonParser.parseString(Files.readString(source.resolve("config.json"))).getAsJsonObject();
        edit.accept(o);
        Files.writeString(folder.resolve("config.json"), o.toString());
        return folder;
    }

    private static Tensor zeros(long... shape) {
        return torch.zeros(shape, new TensorOptions(ScalarType.Float));
    }
}
