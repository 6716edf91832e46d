package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.Sampler;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.sampling.LinspaceGridProbe;
import dev.instaflow.engine.testing.RecordingTrace;
import dev.instaflow.engine.testing.SharedFixtures;
import dev.instaflow.engine.testing.TinyBundle;
import dev.instaflow.GenerationSettings;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Settings the fixtures do not cover (other seeds, prompts, sizes, schedules, guidance), checked against an
 * independent implementation of the samplers written here in plain Java float arithmetic from
 * {@code inference-spec.md} §2–3 and {@code README-samplers.md}: it calls the raw TorchScript parts and does every
 * update, guidance combination and time computation itself, op by op in float32. The engine's latents must agree to
 * float rounding.
 */
class IndependentSamplerTest {
    static final double TOLERANCE = 1e-5;

    @TempDir
    static Path temp;
    static TorchModel model;
    static JitModule unet;
    static JitModule refiner;

    @BeforeAll
    static void load() {
        model = TorchModel.load(TinyBundle.withRefiner(temp.resolve("tiny")), TestSettings.loadOptions());
        unet = torch.load(SharedFixtures.tinySd15().resolve("torchscript/unet.pt").toString());
        refiner = torch.load(SharedFixtures.referenceCase("flowturbo_h1p1r2_cfg1.5").resolve("refiner.pt").toString());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The engine's run, with its embeddings and noise recorded so the independent run starts from the same inputs. */
    record EngineRun(float[] embeddings, long[] embeddingShape, float[] noise, long[] shape, float[] latents,
                     Generation generation) {
    }

    static EngineRun engine(List<String> prompts, String negative, double guidance, long seed, int width, int height,
                            Sampler sampler, int steps) {
        GenerationSettings plan = Plans.plan(prompts, negative, guidance > 1, guidance, seed, Optional.empty(),
                width, height, 1, sampler, steps);
        RecordingTrace trace = new RecordingTrace();
        Generation g = Plans.run(model, plan, trace);
        RecordingTrace.Recorded text = trace.get("unet_in_encoder_hidden_states_call0");
        RecordingTrace.Recorded noise = trace.get("initial_noise");
        return new EngineRun(floats(text.values()), text.shape(), floats(noise.values()), noise.shape(),
                floats(trace.get("final_latents").values()), g);
    }

    static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /** V(x, t): the UNet on [x; x] with [neg; pos] when guided, then u + w (c - u), in Java floats. */
    static float[] velocity(float[] x, long[] shape, float t, EngineRun run, double guidance) {
        boolean guided = guidance > 1;
        int n = x.length;
        long b = shape[0];
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            float[] input = x;
            long[] inShape = shape.clone();
            if (guided) {
                input = new float[2 * n];
                System.arraycopy(x, 0, input, 0, n);
                System.arraycopy(x, 0, input, n, n);
                inShape[0] = 2 * b;
            }
            float[] out = Tensors.toFloats(unet.forward(new IValueVector(
                    new IValue(Tensors.fromFloats(input, inShape)),
                    new IValue(Tensors.fromFloats(filled((int) inShape[0], t), inShape[0])),
                    new IValue(Tensors.fromFloats(run.embeddings(), run.embeddingShape())))).toTensor());
            if (!guided) {
                return out;
            }
            float w = (float) guidance;
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                float u = out[i];
                float c = out[n + i];
                float diff = c - u;
                float scaled = w * diff;
                v[i] = u + scaled;
            }
            return v;
        }
    }

    static float[] refine(float[] x, float[] v, long[] shape, float s) {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            return Tensors.toFloats(refiner.forward(new IValueVector(new IValue(Tensors.fromFloats(x, shape)),
                    new IValue(Tensors.fromFloats(v, shape)),
                    new IValue(Tensors.fromFloats(filled((int) shape[0], s), shape[0])))).toTensor());
        }
    }

    static float[] filled(int n, float value) {
        float[] f = new float[n];
        java.util.Arrays.fill(f, value);
        return f;
    }

    /** x + a * d, rounding the product first. */
    static float[] axpy(float[] x, float a, float[] d) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            float p = a * d[i];
            out[i] = x[i] + p;
        }
        return out;
    }

    /** x + half * (d0 + d1), rounding the sum, then the product. */
    static float[] trapezoid(float[] x, float half, float[] d0, float[] d1) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            float sum = d0[i] + d1[i];
            float p = half * sum;
            out[i] = x[i] + p;
        }
        return out;
    }

    static float[] add(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    /** InstaFlow's pipeline: t = float32((1 - i/N) * 1000) from float64, dt = float32(1/N). */
    static float[] euler(EngineRun run, int steps, double guidance) {
        float[] x = run.noise();
        float dt = (float) (1.0 / steps);
        for (int i = 0; i < steps; i++) {
            float t = (float) ((1.0 - (double) i / steps) * 1000.0);
            x = axpy(x, dt, velocity(x, run.shape(), t, run, guidance));
        }
        return x;
    }

    /** torch.linspace(0, 1, N+1) in float32 as LibTorch computes it, read from LibTorch itself. */
    static float[] torchLinspace(int steps) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toFloats(torch.linspace(new Scalar(0.0), new Scalar(1.0), steps + 1));
        }
    }

    /** FlowTurbo H^a P^b R^c on torch's linspace grid, t = (1 - s) * 1000 in float32. */
    static float[] flowTurbo(EngineRun run, int heun, int pseudo, int refinerSteps, double guidance) {
        int n = heun + pseudo + refinerSteps;
        float[] s = torchLinspace(n);
        float delta = s[1] - s[0];
        float half = delta / 2f;
        float[] x = run.noise();
        float[] carry = null;
        int i = 0;
        for (int k = 0; k < heun + pseudo; k++, i++) {
            float[] d0 = k < heun ? velocity(x, run.shape(), (1f - s[i]) * 1000f, run, guidance) : carry;
            float[] xTilde = axpy(x, delta, d0);
            float[] d1 = velocity(xTilde, run.shape(), (1f - s[i + 1]) * 1000f, run, guidance);
            x = trapezoid(x, half, d0, d1);
            carry = d1;
        }
        for (int k = 0; k < refinerSteps; k++, i++) {
            float[] v = carry;
            float[] d0 = add(v, refine(x, v, run.shape(), s[i]));
            float[] xTilde = axpy(x, delta, d0);
            float[] d1 = add(d0, refine(xTilde, v, run.shape(), s[i + 1]));
            x = trapezoid(x, half, d0, d1);
            carry = d0;
        }
        return x;
    }

    static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static void assertClose(String what, float[] expected, float[] actual) {
        double d = maxDiff(expected, actual);
        System.out.printf("%-60s max |diff| %.3g%n", what, d);
        assertTrue(d <= TOLERANCE, what + ": max |diff| " + d);
    }

    @Test
    void theLinspaceGridIsLibTorchsBitForBit() {
        for (int n = 1; n <= 64; n++) {
            float[] torchGrid = torchLinspace(n);
            float[] ours = LinspaceGridProbe.points(n);
            for (int i = 0; i <= n; i++) {
                assertEquals(Float.floatToRawIntBits(torchGrid[i]), Float.floatToRawIntBits(ours[i]),
                        "N=" + n + " s_" + i + ": torch " + torchGrid[i] + " vs " + ours[i]);
            }
        }
    }

    @Test
    void eulerOnOtherSettings() {
        EngineRun a = engine(List.of("a red fox in the snow"), "blurry", 2.0, 7, 48, 32, Sampler.euler(), 3);
        assertClose("euler N=3 w=2.0 seed 7 48x32 negative", euler(a, 3, 2.0), a.latents());
        EngineRun b = engine(List.of("two dogs", "a castle at night"), "", 0.0, 4294967303L, 32, 32,
                Sampler.euler(), 5);
        assertClose("euler N=5 no guidance, two prompts, seed 2^32+7", euler(b, 5, 0.0), b.latents());
    }

    @Test
    void heunOnOtherSettings() {
        EngineRun a = engine(List.of("an astronaut riding a horse"), "", 1.25, 99, 32, 48, Sampler.heun(), 3);
        assertClose("heun N=3 w=1.25 seed 99 32x48", flowTurbo(a, 3, 0, 0, 1.25), a.latents());
        assertEquals(6, a.generation().denoiserEvaluations());
    }

    @Test
    void flowTurboOnOtherSchedules() {
        EngineRun a = engine(List.of("a lighthouse"), "", 1.75, 2024, 32, 32, Sampler.flowTurbo(2, 3, 1), 6);
        assertClose("flowturbo H2P3R1 w=1.75 seed 2024", flowTurbo(a, 2, 3, 1, 1.75), a.latents());
        assertEquals(7, a.generation().denoiserEvaluations());
        assertEquals(2, a.generation().refinerEvaluations());

        EngineRun b = engine(List.of("a bowl of fruit", "a red car"), "", 0.0, 5, 32, 32, Sampler.flowTurbo(1, 0, 3),
                4);
        assertClose("flowturbo H1P0R3 without guidance, two prompts", flowTurbo(b, 1, 0, 3, 0.0), b.latents());

        EngineRun c = engine(List.of("a quiet lake"), "", 1.5, 11, 32, 32, Sampler.flowTurbo(1, 5, 3), 9);
        assertClose("flowturbo H1P5R3 (FlowTurbo's sample.py schedule) w=1.5", flowTurbo(c, 1, 5, 3, 1.5),
                c.latents());
        assertEquals(7, c.generation().denoiserEvaluations(), "H1P5R3: 2 + 5 network evaluations");
        assertEquals(6, c.generation().refinerEvaluations());
    }
}
