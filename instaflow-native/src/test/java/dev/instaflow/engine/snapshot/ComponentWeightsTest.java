package dev.instaflow.engine.snapshot;

import dev.instaflow.InvalidModelException;
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
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ComponentWeights.load("vae",
                folder, "diffusion_pytorch_model", Optional.empty(), t -> t));
        assertTrue(e.getMessage().contains("data_offsets"), e.getMessage());
        assertTrue(e.field().isPresent());
    }

    @Test
    void notSafetensorsFails() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("unet"));
        Files.writeString(folder.resolve("diffusion_pytorch_model.safetensors"), "hello, this is not a checkpoint");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ComponentWeights.load("unet",
                folder, "diffusion_pytorch_model", Optional.empty(), t -> t));
        assertTrue(e.getMessage().contains("header"), e.getMessage());
    }

    /**
     * Why pickled weights are refused rather than read through LibTorch's own unpickler (which would run no Python
     * code): LibTorch 2.10's {@code torch::pickle_load} reads {@code torch.save} zips of plain dicts, but a state dict
     * is an {@code OrderedDict}, which it cannot rebuild (an internal assertion: "Expected GenericDict but got None"). If a LibTorch upgrade makes this test fail, reading
     * {@code .bin} checkpoints through it becomes possible.
     */
    @Test
    void libTorchsUnpicklerCannotRebuildAStateDict() throws Exception {
        byte[] bytes = Files.readAllBytes(Path.of(getClass().getResource("/pickled-weights/state_dict.bin").toURI()));
        boolean readable;
        try (PointerScope scope = new PointerScope()) {
            readable = torch.pickle_load(new org.bytedeco.pytorch.ByteVector(bytes)).isGenericDict();
        } catch (RuntimeException e) {
            // 2.10: "isGenericDict() INTERNAL ASSERT FAILED ... Expected GenericDict but got None"
            readable = false;
        }
        assertTrue(!readable, "LibTorch now unpickles an OrderedDict state dict: .bin weights can be supported");
    }

    @Test
    void pickledWeightsAreRefusedWithTheConversionCommand() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("unet"));
        Files.write(folder.resolve("diffusion_pytorch_model.bin"), new byte[] {1, 2, 3});
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ComponentWeights.load("unet",
                folder, "diffusion_pytorch_model", Optional.empty(), t -> t));
        assertTrue(e.getMessage().contains("safetensors.torch"), e.getMessage());
        assertEquals(folder.resolve("diffusion_pytorch_model.bin"), e.file());
    }

    @Test
    void shardedCheckpointLoadsAsTheSingleFileDoes() throws IOException {
        Path source = SharedFixtures.tinySd15().resolve("model/unet/diffusion_pytorch_model.safetensors");
        Path folder = Files.createDirectories(temp.resolve("sharded"));
        SafetensorsFile st = SafetensorsFile.open(source);
        java.util.List<SafetensorsFile.Entry> entries = st.entries();
        int half = entries.size() / 2;
        com.google.gson.JsonObject weightMap = new com.google.gson.JsonObject();
        writeShard(source, entries.subList(0, half), folder.resolve("diffusion_pytorch_model-00001-of-00002.safetensors"),
                weightMap);
        writeShard(source, entries.subList(half, entries.size()),
                folder.resolve("diffusion_pytorch_model-00002-of-00002.safetensors"), weightMap);
        com.google.gson.JsonObject index = new com.google.gson.JsonObject();
        index.add("metadata", new com.google.gson.JsonObject());
        index.add("weight_map", weightMap);
        Files.writeString(folder.resolve("diffusion_pytorch_model.safetensors.index.json"), index.toString());
        try (PointerScope scope = new PointerScope();
             StateDict sharded = ComponentWeights.load("unet", folder, "diffusion_pytorch_model", Optional.empty(),
                     t -> t);
             StateDict single = ComponentWeights.load("unet", source.getParent(), "diffusion_pytorch_model",
                     Optional.empty(), t -> t)) {
            assertEquals(single.keys(), sharded.keys());
            for (String key : single.keys()) {
                assertTrue(torch.equal(single.entry(key).tensor(), sharded.entry(key).tensor()), key);
            }
            assertEquals(folder.resolve("diffusion_pytorch_model-00002-of-00002.safetensors"),
                    sharded.entry(entries.get(entries.size() - 1).name()).file());
        }
        // A key the index maps to the other shard is refused.
        String moved = entries.get(0).name();
        weightMap.addProperty(moved, "diffusion_pytorch_model-00002-of-00002.safetensors");
        index.add("weight_map", weightMap);
        Files.writeString(folder.resolve("diffusion_pytorch_model.safetensors.index.json"), index.toString());
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ComponentWeights.load("unet",
                folder, "diffusion_pytorch_model", Optional.empty(), t -> t));
        assertEquals(moved, e.field().orElseThrow());
    }

    /** Writes {@code entries} of {@code source} as one safetensors shard and records them in {@code weightMap}. */
    private static void writeShard(Path source, java.util.List<SafetensorsFile.Entry> entries, Path target,
                                   com.google.gson.JsonObject weightMap) throws IOException {
        byte[] all = Files.readAllBytes(source);
        long headerLength = java.nio.ByteBuffer.wrap(all, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        int dataStart = (int) (8 + headerLength);
        com.google.gson.JsonObject header = new com.google.gson.JsonObject();
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        for (SafetensorsFile.Entry e : entries) {
            com.google.gson.JsonObject one = new com.google.gson.JsonObject();
            one.addProperty("dtype", e.dtypeName());
            com.google.gson.JsonArray shape = new com.google.gson.JsonArray();
            for (long d : e.shape()) {
                shape.add(d);
            }
            one.add("shape", shape);
            com.google.gson.JsonArray offsets = new com.google.gson.JsonArray();
            offsets.add(data.size());
            data.write(all, dataStart + (int) e.begin(), (int) (e.end() - e.begin()));
            offsets.add(data.size());
            one.add("data_offsets", offsets);
            header.add(e.name(), one);
            weightMap.addProperty(e.name(), target.getFileName().toString());
        }
        byte[] headerBytes = header.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer length = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putLong(headerBytes.length);
        java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
        file.write(length.array());
        file.write(headerBytes);
        file.write(data.toByteArray());
        Files.write(target, file.toByteArray());
    }

    @Test
    void variantAndShardNaming() {
        assertEquals("diffusion_pytorch_model.fp16.safetensors",
                ComponentWeights.withVariant("diffusion_pytorch_model.safetensors", Optional.of("fp16")));
        assertEquals("diffusion_pytorch_model.safetensors.index.fp16.json",
                ComponentWeights.withVariant("diffusion_pytorch_model.safetensors.index.json", Optional.of("fp16")));
    }
}
