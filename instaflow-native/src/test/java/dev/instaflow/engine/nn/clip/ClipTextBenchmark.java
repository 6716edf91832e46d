package dev.instaflow.engine.nn.clip;

import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.snapshot.ComponentWeights;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Not a test: encode time per call of the Java-built tiny-sd15 text encoder against the fixture's TorchScript trace
 * of transformers' CLIPTextModel, same ids, median of 50 calls after 20 warm-up calls, one intra-op thread. Run with
 * the test classpath and {@code -Dinstaflow.shared.dir=...} (and {@code OMP_WAIT_POLICY=PASSIVE}, as surefire sets).
 */
public final class ClipTextBenchmark {
    private ClipTextBenchmark() {
    }

    public static void main(String[] args) {
        TorchRuntime.ensureLoaded();
        TorchRuntime.setIntraOpThreads(Integer.getInteger("instaflow.test.threads", 1));
        Path fixture = SharedFixtures.tinySd15();
        Path folder = fixture.resolve("model/text_encoder");
        ReferenceCase c = ReferenceCase.load("instaflow_n1_cfg1.5");
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode();
             StateDict dict = ComponentWeights.load("text encoder", folder, "model", Optional.empty(), t -> t)) {
            ClipTextModel model = ClipTextModel.build(ClipTextConfig.read(folder.resolve("config.json")), dict, folder);
            dict.requireAllTaken();
            JitModule traced = torch.load(fixture.resolve("torchscript/text_encoder.pt").toString());
            traced.eval();
            Tensor ids = Tensors.fromLongs(c.longs("input_ids_prompt"), c.shape("input_ids_prompt"));
            Supplier<Tensor> java = () -> model.encode(ids);
            Supplier<Tensor> script = () -> {
                IValueVector in = new IValueVector();
                in.push_back(new IValue(ids));
                IValue out = traced.forward(in);
                return out.isTensor() ? out.toTensor() : out.toTuple().elements().get(0).toTensor();
            };
            float[] a = Tensors.toFloats(java.get());
            float[] b = Tensors.toFloats(script.get());
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            double javaMs = median(java);
            double scriptMs = median(script);
            double javaAgain = median(java);
            double scriptAgain = median(script);
            System.out.printf("tiny-sd15 text encoder, ids [1,77], 1 thread: Java-built %.3f ms (again %.3f),"
                    + " TorchScript trace %.3f ms (again %.3f) per call (median of 50 after 20 warm-up);"
                    + " max|Δ| between them %.3g%n", javaMs, javaAgain, scriptMs, scriptAgain, diff);
        }
    }

    private static double median(Supplier<Tensor> call) {
        for (int i = 0; i < 20; i++) {
            try (PointerScope s = new PointerScope()) {
                call.get();
            }
        }
        double[] ms = new double[50];
        for (int i = 0; i < ms.length; i++) {
            try (PointerScope s = new PointerScope()) {
                long t0 = System.nanoTime();
                call.get();
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
        }
        Arrays.sort(ms);
        return (ms[24] + ms[25]) / 2;
    }
}
