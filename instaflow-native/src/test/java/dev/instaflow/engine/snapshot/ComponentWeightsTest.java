package dev.instaflow.engine.snapshot;

import dev.instaflow.InvalidBundleException;
import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Safetensors reading: the fixture's weights equal the same weights inside its TorchScript trace; bad files fail. */
class ComponentWeightsTest {
    @TempDir
    Path temp;

    @BeforeAll
    static void natives() {
        TorchRuntime.ensureLoaded();
    }

    @Test
    void safetensorsWeightsEqualTheTracedModulesParameters() {
        Path model = SharedFixtures.tinySd15().resolve("model");
        try (PointerScope scope = new PointerScope();
             StateDict unet = ComponentWeights.load("unet", model.resolve("unet"), "diffusion_pytorch_model",
                     Optional.empty(), t -> t)) {
            JitModule traced = torch.load(SharedFixtures.tinySd15().resolve("torchscript/unet.pt").toString());
            int compared = 0;
            var params = traced.named_parameters(true);
            for (var it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
                String name = it.access().name().getString();
                String key = name.startsWith("unet.") ? name.substring(5) : name;
                if (unet.contains(key)) {
                    Tensor ours = unet.entry(key).tensor();
                    assertTrue(torch.equal(ours, it.access().value()), key);
                    compared++;
                }
            }
            assertTrue(compared > 50, "compared " + compared + " parameters with the trace");
            assertArrayEquals(new long[] {32, 4, 3, 3}, Tensors.shape(unet.take("conv_in.weight", 32, 4, 3, 3)));
        }
    }

    @Test
    void truncatedFileFailsNamingTheTensor() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("vae"));
        byte[] all = Files.readAllBytes(SharedFixtures.tinySd15().resolve("model/vae/diffusion_pytorch_model.safetensors"));
        Files.write(folder.resolve("diffusion_pytorch_model.safetensors"), Arrays.copyOf(all, all.length - 100));
        InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ComponentWeights.load("vae",
                folder, "diffusion_pytorch_model", Optional.empty(), t -> t));
        assertTrue(e.getMessage().contains("data_offsets"), e.getMessage());
        assertTrue(e.field().isPresent());
    }

    @Test
    void notSafetensorsFails() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("unet"));
        Files.writeString(folder.resolve("diffusion_pytorch_model.safetensors"), "hello, this is not a checkpoint");
        InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ComponentWeights.load("unet",
                folder, "diffusion_pytorch_model", Optional.empty(), t -> t));
        assertTrue(e.getMessage().contains("header"), e.getMessage());
    }

    @Test
    void pickledWeightsAreRefusedWithTheConversionCommand() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("unet"));
        Files.write(folder.resolve("diffusion_pytorch_model.bin"), new byte[] {1, 2, 3});
        InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ComponentWeights.load("unet",
                folder, "diffusion_pytorch_model", Optional.empty(), t -> t));
        assertTrue(e.getMessage().contains("safetensors.torch"), e.getMessage());
        assertEquals(folder.resolve("diffusion_pytorch_model.bin"), e.file());
    }

    @Test
    void variantAndShardNaming() {
        assertEquals("diffusion_pytorch_model.fp16.safetensors",
                ComponentWeights.withVariant("diffusion_pytorch_model.safetensors", Optional.of("fp16")));
        assertEquals("diffusion_pytorch_model.safetensors.index.fp16.json",
                ComponentWeights.withVariant("diffusion_pytorch_model.safetensors.index.json", Optional.of("fp16")));
    }
}
