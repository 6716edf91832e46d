package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.runtime.ModulePreparation;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Time per call of the Java-built tiny-sd15 UNet against the fixture's TorchScript trace of diffusers' UNet, same
 * inputs, same JVM, 1 intra-op thread, 16x16 latent, batch 1 and 2: the median of 30 calls after 10 warm-up calls.
 * A measurement, not a check of speed (it only checks that both give the same output): runs with
 * {@code -Dinstaflow.unet.timing=true}. Options: {@code -Dinstaflow.unet.timing.batches=1,2},
 * {@code -Dinstaflow.unet.timing.only=java|script}, {@code -Dinstaflow.unet.timing.noJitOptimize=true} (turns the
 * TorchScript graph executor's optimisation off, process-wide). Lines also go to {@code target/unet-timing.txt}.
 */
class UNetTimingTest {
    private static final int WARM_UP = 10;
    private static final int CALLS = 30;
    private static final int[] BATCHES = Arrays.stream(System.getProperty("instaflow.unet.timing.batches", "1,2")
            .split(",")).mapToInt(Integer::parseInt).toArray();

    @Test
    void javaBuiltUNetAgainstTheTorchScriptTrace() {
        Assumptions.assumeTrue(Boolean.getBoolean("instaflow.unet.timing"), "-Dinstaflow.unet.timing=true to run");
        TorchRuntime.ensureLoaded();
        TorchRuntime.setIntraOpThreads(1);
        try (PointerScope scope = new PointerScope();
             UNetFixtures.Loaded loaded = UNetFixtures.load(SharedFixtures.tinySd15().resolve("model/unet"))) {
            // Prepared as the SDK's TorchScript parts are (no requires_grad, eval), outside inference mode.
            JitModule traced = torch.load(SharedFixtures.tinySd15().resolve("torchscript/unet.pt").toString());
            ModulePreparation.prepare(traced, ScalarType.Float);
            boolean optimize = torch.getGraphExecutorOptimize();
            if (Boolean.getBoolean("instaflow.unet.timing.noJitOptimize")) {
                torch.setGraphExecutorOptimize(false);
            }
            report("TorchScript graph executor optimisation: %s", torch.getGraphExecutorOptimize());
            try (InferenceMode inference = new InferenceMode()) {
                measure(loaded, traced);
            } finally {
                torch.setGraphExecutorOptimize(optimize);
            }
        }
    }

    private static void measure(UNetFixtures.Loaded loaded, JitModule traced) {
            ReferenceCase cfg = ReferenceCase.at(SharedFixtures.referenceCase("instaflow_n1_cfg1.5"));
            Tensor sample2 = UNetFixtures.tensor(cfg, "unet_in_sample_step0");
            Tensor t2 = UNetFixtures.tensor(cfg, "unet_in_timestep_step0");
            Tensor text2 = UNetFixtures.tensor(cfg, "unet_in_encoder_hidden_states_step0");
            for (int batch : BATCHES) {
                Tensor sample = sample2.narrow(0, 0, batch).contiguous();
                Tensor t = t2.narrow(0, 0, batch).contiguous();
                Tensor text = text2.narrow(0, 0, batch).contiguous();
                Supplier<Tensor> java = () -> loaded.unet().predict(sample, t, text);
                Supplier<Tensor> script = () -> {
                    IValueVector args = new IValueVector();
                    args.push_back(new IValue(sample));
                    args.push_back(new IValue(t));
                    args.push_back(new IValue(text));
                    IValue out = traced.forward(args);
                    return out.isTensor() ? out.toTensor() : out.toTuple().elements().get(0).toTensor();
                };
                try (PointerScope check = new PointerScope()) {
                    float[] a = Tensors.toFloats(java.get());
                    float[] b = Tensors.toFloats(script.get());
                    double max = 0;
                    for (int i = 0; i < a.length; i++) {
                        max = Math.max(max, Math.abs(a[i] - b[i]));
                    }
                    report("batch %d: Java-built vs TorchScript output max|d| %.3g%n", batch, max);
                    assertTrue(max < 1e-4, "outputs differ by " + max);
                }
                // Interleave the two so that machine noise hits both alike.
                double[] javaMs = new double[CALLS];
                double[] scriptMs = new double[CALLS];
                String only = System.getProperty("instaflow.unet.timing.only", "");
                for (int i = 0; i < WARM_UP; i++) {
                    if (!only.equals("script")) {
                        time(java);
                    }
                    if (!only.equals("java")) {
                        time(script);
                    }
                }
                for (int i = 0; i < CALLS; i++) {
                    javaMs[i] = only.equals("script") ? Double.NaN : time(java);
                    scriptMs[i] = only.equals("java") ? Double.NaN : time(script);
                }
                report("tiny-sd15 UNet, 16x16, batch %d, 1 thread: Java-built median %.2f ms"
                                + " (min %.2f), TorchScript trace median %.2f ms (min %.2f), ratio %.2f%n", batch,
                        median(javaMs), min(javaMs), median(scriptMs), min(scriptMs),
                        median(javaMs) / median(scriptMs));
        }
    }

    /** Prints the line and appends it to {@code target/unet-timing.txt} (native warnings interleave with stdout). */
    private static void report(String format, Object... args) {
        String line = String.format(format, args).trim();
        System.out.println(line);
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of("target/unet-timing.txt"), line + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static double time(Supplier<Tensor> call) {
        try (PointerScope scope = new PointerScope()) {
            long start = System.nanoTime();
            Tensor out = call.get();
            out.data_ptr_float(); // materialised (CPU: already)
            return (System.nanoTime() - start) / 1e6;
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }
}
