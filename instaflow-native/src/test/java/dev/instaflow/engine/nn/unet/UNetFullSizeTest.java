package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Full-size SD-1.5- and SD-2.1-base-style configurations (the fields of the public {@code unet/config.json} files):
 * they parse with the right head counts; with {@code -Dinstaflow.unet.fullsize=true} the network is also built on
 * random bfloat16 weights of the shapes it asks for (parameter count checked against the published 859,520,964 /
 * 865,910,724) and run once on a 16x16 latent.
 */
class UNetFullSizeTest {
    private static final String DOWN = "[\"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\","
            + " \"DownBlock2D\"]";
    private static final String UP = "[\"UpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\","
            + " \"CrossAttnUpBlock2D\"]";
    static final String SD15 = "{\"_class_name\": \"UNet2DConditionModel\", \"_diffusers_version\": \"0.6.0\","
            + " \"act_fn\": \"silu\", \"attention_head_dim\": 8, \"block_out_channels\": [320, 640, 1280, 1280],"
            + " \"center_input_sample\": false, \"cross_attention_dim\": 768, \"down_block_types\": " + DOWN + ","
            + " \"downsample_padding\": 1, \"flip_sin_to_cos\": true, \"freq_shift\": 0, \"in_channels\": 4,"
            + " \"layers_per_block\": 2, \"mid_block_scale_factor\": 1, \"norm_eps\": 1e-05, \"norm_num_groups\": 32,"
            + " \"out_channels\": 4, \"sample_size\": 64, \"up_block_types\": " + UP + "}";
    static final String SD21_BASE = "{\"_class_name\": \"UNet2DConditionModel\", \"_diffusers_version\": \"0.10.0\","
            + " \"act_fn\": \"silu\", \"attention_head_dim\": [5, 10, 20, 20],"
            + " \"block_out_channels\": [320, 640, 1280, 1280], \"center_input_sample\": false,"
            + " \"cross_attention_dim\": 1024, \"down_block_types\": " + DOWN + ", \"downsample_padding\": 1,"
            + " \"dual_cross_attention\": false, \"flip_sin_to_cos\": true, \"freq_shift\": 0, \"in_channels\": 4,"
            + " \"layers_per_block\": 2, \"mid_block_scale_factor\": 1, \"norm_eps\": 1e-05, \"norm_num_groups\": 32,"
            + " \"num_class_embeds\": null, \"only_cross_attention\": false, \"out_channels\": 4, \"sample_size\": 64,"
            + " \"up_block_types\": " + UP + ", \"use_linear_projection\": true}";

    /** bfloat16: half the memory (JavaCPP's default limit is 4 GiB of RSS), and the non-float32 path at full size. */
    private static final ScalarType DTYPE = ScalarType.BFloat16;

    @TempDir
    Path temp;

    @Test
    void sd15AndSd21ConfigsParseWithTheirHeadCounts() throws IOException {
        UNetConfig sd15 = UNetConfig.read(write("sd15.json", SD15));
        assertArrayEquals(new int[] {8, 8, 8, 8}, sd15.numAttentionHeads());
        assertEquals(3, sd15.downsamplers());
        assertEquals(1280, sd15.timeEmbedDim());
        assertFalse(sd15.useLinearProjection());
        UNetConfig sd21 = UNetConfig.read(write("sd21.json", SD21_BASE));
        assertArrayEquals(new int[] {5, 10, 20, 20}, sd21.numAttentionHeads(), "64-wide heads: 320/5, 640/10, ...");
        assertEquals(1024, sd21.crossAttentionDim());
        assertTrue(sd21.useLinearProjection());
    }

    @Test
    void fullSizeNetworksBuildAndRun() throws IOException {
        Assumptions.assumeTrue(Boolean.getBoolean("instaflow.unet.fullsize"), "-Dinstaflow.unet.fullsize=true to run");
        TorchRuntime.ensureLoaded();
        run("SD-1.5", write("sd15.json", SD15), 768, 859_520_964L);
        run("SD-2.1-base", write("sd21.json", SD21_BASE), 1024, 865_910_724L);
    }

    private static void run(String name, Path config, int crossDim, long expectedParameters) {
        UNetConfig c = UNetConfig.read(config);
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
            RandomWeights w = new RandomWeights();
            try {
                runOn(name, c, w, config, crossDim, expectedParameters);
            } finally {
                w.release();
            }
        }
    }

    private static void runOn(String name, UNetConfig c, RandomWeights w, Path config, int crossDim,
                              long expectedParameters) {
        {
            long start = System.nanoTime();
            UNet2DConditionModel unet = UNet2DConditionModel.build(c, w, config.getParent());
            long built = System.nanoTime();
            Tensor sample = torch.randn(new long[] {1, 4, 16, 16}, new TensorOptions(ScalarType.Float)).to(DTYPE);
            Tensor t = Tensors.fromFloats(new float[] {999f}, 1);
            Tensor text = torch.randn(new long[] {1, 77, crossDim}, new TensorOptions(ScalarType.Float)).to(DTYPE);
            Tensor out = unet.predict(sample, t, text);
            long ran = System.nanoTime();
            float[] v = Tensors.toFloats(out);
            boolean finite = true;
            for (float f : v) {
                finite &= Float.isFinite(f);
            }
            System.out.printf("%s: %d tensors, %,d parameters; built in %.1f s, one 16x16 call in %.1f s%n", name,
                    w.shapes.size(), w.parameters, (built - start) / 1e9, (ran - built) / 1e9);
            assertArrayEquals(new long[] {1, 4, 16, 16}, Tensors.shape(out));
            assertTrue(finite, "non-finite output");
            assertEquals(expectedParameters, w.parameters, name + " parameter count");
        }
    }

    private Path write(String file, String json) throws IOException {
        Path dir = Files.createDirectories(temp.resolve(file.replace(".json", "")));
        return Files.writeString(dir.resolve("config.json"), json);
    }

    /** Weights that make a small random tensor of whatever shape is asked for (kept alive until the test ends). */
    private static final class RandomWeights implements Weights {
        final Map<String, long[]> shapes = new LinkedHashMap<>();
        final List<Tensor> kept = new ArrayList<>();
        final List<org.bytedeco.pytorch.TensorOptional> optionals = new ArrayList<>();
        long parameters;
        private final String prefix;
        private final RandomWeights root;

        RandomWeights() {
            this.prefix = "";
            this.root = this;
        }

        private RandomWeights(RandomWeights root, String prefix) {
            this.prefix = prefix;
            this.root = root;
        }

        @Override
        public Tensor take(String key, long... shape) {
            Tensor t;
            try (PointerScope own = new PointerScope()) { // the float32 draws are freed at once
                t = torch.randn(shape, new TensorOptions(ScalarType.Float)).mul(new Scalar(0.02)).to(DTYPE);
                t.retainReference();
            }
            root.kept.add(t);
            root.shapes.put(fullKey(key), shape);
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            root.parameters += n;
            return t;
        }

        @Override
        public org.bytedeco.pytorch.TensorOptional takeOptional(String key, long... shape) {
            org.bytedeco.pytorch.TensorOptional o = new org.bytedeco.pytorch.TensorOptional(take(key, shape));
            o.retainReference();
            root.optionals.add(o);
            return o;
        }

        void release() {
            for (org.bytedeco.pytorch.TensorOptional o : optionals) {
                o.releaseReference();
            }
            optionals.clear();
            for (Tensor t : kept) {
                t.releaseReference();
            }
            kept.clear();
        }

        @Override
        public boolean contains(String key) {
            return true;
        }

        @Override
        public void ignore(String key) {
        }

        @Override
        public Weights at(String child) {
            return new RandomWeights(root, fullKey(child));
        }

        @Override
        public String fullKey(String key) {
            return prefix.isEmpty() ? key : prefix + "." + key;
        }

        @Override
        public String prefix() {
            return prefix;
        }
    }
}
