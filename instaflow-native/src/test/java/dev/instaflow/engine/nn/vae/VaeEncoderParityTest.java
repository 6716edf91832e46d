package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java VAE encoder against diffusers 0.21.4's {@code latent_dist.mean} of a seeded image on both fixtures (the
 * committed {@code vae-encoder-reference/}, see its README), plus checks that need no reference.
 */
class VaeEncoderParityTest {
    private static final long[] INPUT_SHAPE = {1, 3, 32, 32};
    private static final long[] MEAN_SHAPE = {1, 4, 16, 16};

    @BeforeAll
    static void natives() {
        TorchRuntime.ensureLoaded();
    }

    @Test
    void meanMatchesDiffusersOnTinySd15() throws IOException {
        meanMatchesDiffusers("tiny-sd15", SharedFixtures.tinySd15(), "mean.bin");
    }

    @Test
    void meanMatchesDiffusersOnTinySd21() throws IOException {
        meanMatchesDiffusers("tiny-sd21", SharedFixtures.tinySd21(), "mean-tiny-sd21.bin");
    }

    private static void meanMatchesDiffusers(String model, Path fixture, String reference) throws IOException {
        Path vae = fixture.resolve("model/vae");
        VaeConfig config = VaeConfig.read(vae.resolve("config.json"));
        float[] input = resource("input.bin", 3 * 32 * 32);
        float[] expected = resource(reference, 4 * 16 * 16);
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(vae);
             VaeEncoder encoder = VaeEncoder.build(config, w, vae)) {
            Tensor mean = encoder.encodeMean(Tensors.fromFloats(input, INPUT_SHAPE));
            assertArrayEquals(MEAN_SHAPE, Tensors.shape(mean));
            double d = VaeFixtures.maxAbsDiff(expected, Tensors.toFloats(mean), "latent_dist.mean");
            System.out.printf("VAE encoder parity, %s seeded 32x32 image: latent_dist.mean max |Δ| %.3g%n", model,
                    d);
            assertTrue(d <= VaeFixtures.TOLERANCE, "latent_dist.mean differs by " + d);
        }
    }

    /** The mean is the first latent_channels channels of quant_conv(conv_out), recomputed here by hand; deterministic. */
    @Test
    void meanIsTheFirstHalfOfQuantConvAndDeterministic() throws IOException {
        Path vae = SharedFixtures.tinySd15().resolve("model/vae");
        VaeConfig config = VaeConfig.read(vae.resolve("config.json"));
        float[] input = resource("input.bin", 3 * 32 * 32);
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(vae);
             VaeEncoder encoder = VaeEncoder.build(config, w, vae)) {
            VaeFixtures.Recorder tap = new VaeFixtures.Recorder();
            Tensor mean = encoder.encodeMean(Tensors.fromFloats(input, INPUT_SHAPE), tap);
            assertEquals(Arrays.asList("conv_in", "down_block0", "down_block1", "mid_block", "conv_norm_out",
                    "conv_out", "quant_conv"), tap.values.keySet().stream().toList());
            assertArrayEquals(new long[] {1, 32, 16, 16}, tap.shapes.get("down_block0"));
            assertArrayEquals(new long[] {1, 64, 16, 16}, tap.shapes.get("down_block1"));
            assertArrayEquals(new long[] {1, 8, 16, 16}, tap.shapes.get("conv_out"));
            Tensor convOut = Tensors.fromFloats(tap.values.get("conv_out"), tap.shapes.get("conv_out"));
            Tensor moments = torch.conv2d(convOut, plain(w.entry("quant_conv.weight").tensor()),
                    new TensorOptional(w.entry("quant_conv.bias").tensor()), new long[] {1, 1}, new long[] {0, 0},
                    new long[] {1, 1}, 1);
            float[] manual = Tensors.toFloats(moments.narrow(1, 0, 4));
            assertTrue(VaeFixtures.maxAbsDiff(manual, Tensors.toFloats(mean), "mean vs manual quant_conv") <= 1e-6);
            // the other half is the log-variance, not part of the mean
            float[] logvar = Tensors.toFloats(moments.narrow(1, 4, 4));
            assertTrue(VaeFixtures.maxAbsDiff(logvar, Tensors.toFloats(mean), "logvar vs mean") > 1e-2);
            Tensor again = encoder.encodeMean(Tensors.fromFloats(input, INPUT_SHAPE));
            assertTrue(torch.equal(mean, again), "two encodes of the same image differ");
        }
    }

    /** Batch and non-square sizes: shapes follow the scale factor and batch items are independent. */
    @Test
    void encoderAndDecoderRunOnABatchOfTwoAtAnotherSize() {
        Path vae = SharedFixtures.tinySd21().resolve("model/vae");
        VaeConfig config = VaeConfig.read(vae.resolve("config.json"));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(vae);
             VaeEncoder encoder = VaeEncoder.build(config, w, vae);
             VaeDecoder decoder = VaeDecoder.build(config, w, vae)) {
            Tensor image = torch.rand(2, 3, 24, 40).mul(new org.bytedeco.pytorch.Scalar(2.0))
                    .sub(new org.bytedeco.pytorch.Scalar(1.0));
            Tensor mean = encoder.encodeMean(image);
            assertArrayEquals(new long[] {2, 4, 12, 20}, Tensors.shape(mean));
            Tensor decoded = decoder.decode(mean);
            assertArrayEquals(new long[] {2, 3, 24, 40}, Tensors.shape(decoded));
            // batch items are independent: the second alone gives the same mean
            Tensor second = encoder.encodeMean(image.narrow(0, 1, 1));
            assertTrue(VaeFixtures.maxAbsDiff(Tensors.toFloats(mean.narrow(0, 1, 1)), Tensors.toFloats(second),
                    "batch item 1") <= 1e-5);
        }
    }

    private static float[] resource(String name, int count) throws IOException {
        try (InputStream in = VaeEncoderParityTest.class.getResourceAsStream("/vae-encoder-reference/" + name)) {
            assertNotNull(in, "test resource vae-encoder-reference/" + name);
            byte[] bytes = in.readAllBytes();
            assertEquals(4L * count, bytes.length, name + " size");
            float[] out = new float[count];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }
    }

    /** A convolution weight as stored after the build: oneDNN-packed on the CPU ({@code Conv2d}), plain otherwise. */
    private static Tensor plain(Tensor weight) {
        return weight.is_mkldnn() ? weight.to_dense() : weight;
    }
}
