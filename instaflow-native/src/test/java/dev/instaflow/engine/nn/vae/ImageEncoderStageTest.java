package dev.instaflow.engine.nn.vae;

import dev.instaflow.Device;
import dev.instaflow.Precision;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.decode.ImageEncoder;
import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.testing.SharedFixtures;
import dev.instaflow.engine.testing.TinyBundle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pipeline's VAE encoder stage ({@link ImageEncoder}) over the Java encoder of tiny-sd15, against diffusers'
 * {@code latent_dist.mean} of {@code vae-encoder-reference/}: the mean itself, and {@code x_init} =
 * {@code 0.18215 * mean} from the same image given as RGB in [0, 1].
 */
class ImageEncoderStageTest {
    @Test
    void theStageEncodesAsDiffusersDoes() throws IOException {
        Path vae = SharedFixtures.tinySd15().resolve("model/vae");
        VaeConfig config = VaeConfig.read(vae.resolve("config.json"));
        float[] input = resource("input.bin", 3 * 32 * 32);
        float[] mean = resource("mean.bin", 4 * 16 * 16);
        BundleManifest manifest = TinyBundle.manifest();
        try (DeviceContext device = DeviceContext.open(java.util.Optional.of(Device.cpu()), Precision.FLOAT32);
             PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(vae);
             VaeEncoder network = VaeEncoder.build(config, w, vae)) {
            ImageEncoder stage = new ImageEncoder(network, device, manifest);
            stage.validate(manifest);
            float[] got = Tensors.toFloats(stage.encodeMean(Tensors.fromFloats(input, 1, 3, 32, 32)));
            double d = VaeFixtures.maxAbsDiff(mean, got, "stage mean");
            assertTrue(d <= VaeFixtures.TOLERANCE, "mean differs by " + d);

            float[] unit = new float[input.length];
            for (int i = 0; i < unit.length; i++) {
                unit[i] = (input[i] + 1f) / 2f;
            }
            Tensor xInit = stage.encode(Tensors.fromFloats(unit, 1, 3, 32, 32), PipelineTrace.NONE);
            float[] expected = new float[mean.length];
            for (int i = 0; i < mean.length; i++) {
                expected[i] = mean[i] * 0.18215f;
            }
            double e = VaeFixtures.maxAbsDiff(expected, Tensors.toFloats(xInit), "x_init");
            System.out.printf("ImageEncoder stage vs diffusers: mean max |Δ| %.3g, x_init max |Δ| %.3g%n", d, e);
            assertTrue(e <= VaeFixtures.TOLERANCE, "x_init differs by " + e);
        }
    }

    private static float[] resource(String name, int count) throws IOException {
        try (InputStream in = ImageEncoderStageTest.class.getResourceAsStream("/vae-encoder-reference/" + name)) {
            assertNotNull(in, "test resource vae-encoder-reference/" + name);
            float[] out = new float[count];
            ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }
    }
}
