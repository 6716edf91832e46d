package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Timing, not run by default ({@code -Dinstaflow.vae.timing=true}): the Java decoder against the fixture's traced
 * {@code torchscript/vae_decoder.pt} on the same input in the same JVM, median of 20 (alternating the two) after 3 warm-ups, at the
 * fixture's 16×16 latent and at 64×64 (the tiny VAE is fully convolutional).
 */
@EnabledIfSystemProperty(named = "instaflow.vae.timing", matches = "true")
class VaeDecoderTimingTest {
    private static final int RUNS = 20;
    private static final int WARMUP = 3;

    @Test
    void javaDecoderAgainstTorchScript() {
        TorchRuntime.ensureLoaded();
        Path vae = SharedFixtures.tinySd15().resolve("model/vae");
        VaeConfig c = VaeConfig.read(vae.resolve("config.json"));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(vae);
             VaeDecoder decoder = VaeDecoder.build(c, w, vae)) {
            JitModule traced = torch.load(SharedFixtures.tinySd15().resolve("torchscript/vae_decoder.pt").toString());
            traced.eval();
            System.out.println("VAE decoder timing, intra-op threads " + torch.get_num_threads());
            for (int size : new int[] {16, 64}) {
                torch.manual_seed(7);
                Tensor z = torch.randn(1, 4, size, size).mul(new org.bytedeco.pytorch.Scalar(5.0));
                Supplier<Tensor> java = () -> decoder.decode(z);
                Supplier<Tensor> script = () -> {
                    IValueVector args = new IValueVector();
                    args.push_back(new IValue(z));
                    return traced.forward(args).toTensor();
                };
                double d = VaeFixtures.maxAbsDiff(Tensors.toFloats(script.get()), Tensors.toFloats(java.get()),
                        "decoded");
                double[] ms = interleavedMedianMs(java, script);
                double javaMs = ms[0];
                double scriptMs = ms[1];
                System.out.printf("  latent %dx%d: Java %.1f ms, TorchScript %.1f ms (median of %d), max |Δ| %.3g%n",
                        size, size, javaMs, scriptMs, RUNS, d);
                assertTrue(d <= 1e-4, "Java and TorchScript decoders differ by " + d);
            }
        }
    }

    /** Medians of {@code a} and {@code b}, run alternately so that load from other processes hits both alike. */
    private static double[] interleavedMedianMs(Supplier<Tensor> a, Supplier<Tensor> b) {
        double[][] ms = new double[2][RUNS];
        for (int i = 0; i < WARMUP + RUNS; i++) {
            for (int which = 0; which < 2; which++) {
                try (PointerScope each = new PointerScope()) {
                    long t0 = System.nanoTime();
                    Tensor out = (which == 0 ? a : b).get();
                    out.sum().item_float();
                    long t1 = System.nanoTime();
                    if (i >= WARMUP) {
                        ms[which][i - WARMUP] = (t1 - t0) / 1e6;
                    }
                }
            }
        }
        return new double[] {median(ms[0]), median(ms[1])};
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
