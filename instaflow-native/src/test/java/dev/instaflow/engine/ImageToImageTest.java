package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.Sampler;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.sampling.LinspaceGridProbe;
import dev.instaflow.engine.testing.RecordingTrace;
import dev.instaflow.engine.testing.SharedFixtures;
import dev.instaflow.GenerationSettings;
import dev.instaflow.GenerationSettings.ImageInput;
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

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Image-to-image and inpainting on the tiny SD-1.5 snapshot (whose VAE has its encoder), checked against an
 * independent plain-float Java implementation of the three formulas of {@code docs/samplers.md} (the start point
 * {@code s*noise + (1-s)*x_init}, the sub-interval grids, the mask blend after every step), written here from the
 * issue's math: it calls the fixture's raw TorchScript UNet (not the snapshot's Java UNet) and does every update,
 * time and blend itself. Also: strength 1 is text-to-image bit for bit for every sampler, and an all-black mask ends
 * exactly at x_init.
 */
class ImageToImageTest {
    /** The snapshot's Java UNet against the fixture's TorchScript UNet, over a few steps. */
    static final double TOLERANCE = 2e-5;
    static final int SIZE = 32;

    @TempDir
    static Path temp;
    static TorchModel model;
    static JitModule unet;
    static JitModule refiner;
    static int f;

    @BeforeAll
    static void load() throws IOException {
        Path snapshot = copy(SharedFixtures.tinySd15().resolve("model"), temp.resolve("sd15-refiner"));
        Files.copy(SharedFixtures.referenceCase("flowturbo_h1p1r2_cfg1.5").resolve("refiner.pt"),
                snapshot.resolve("refiner.pt"));
        Files.writeString(snapshot.resolve("instaflow.json"), "{\"parts\": {\"refiner\": \"refiner.pt\"}}");
        model = TorchModel.load(snapshot, TestSettings.loadOptions());
        assertTrue(model.info().features().imageInput(), "a snapshot's vae has an encoder");
        f = model.info().latents().scaleFactor();
        unet = torch.load(SharedFixtures.tinySd15().resolve("torchscript/unet.pt").toString());
        refiner = torch.load(SharedFixtures.referenceCase("flowturbo_h1p1r2_cfg1.5").resolve("refiner.pt")
                .toString());
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }

    // ----------------------------------------------------------------------------------------------- inputs

    /** A smooth colour picture with some noise, so the encoder sees structure. */
    static BufferedImage picture(long seed) {
        Random r = new Random(seed);
        BufferedImage im = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int red = Math.min(255, x * 8 + r.nextInt(20));
                int green = Math.min(255, y * 8 + r.nextInt(20));
                int blue = (x * y + r.nextInt(40)) & 0xff;
                im.setRGB(x, y, (red << 16) | (green << 8) | blue);
            }
        }
        return im;
    }

    static BufferedImage solid(Color c) {
        BufferedImage im = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = im.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, SIZE, SIZE);
        g.dispose();
        return im;
    }

    /** White (repaint) in a rectangle that does not fall on latent cells, plus grey pixels, black elsewhere. */
    static BufferedImage ragged() {
        BufferedImage im = solid(Color.BLACK);
        Graphics2D g = im.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(5, 3, 17, 20);
        g.setColor(new Color(128, 128, 128));
        g.fillRect(24, 24, 7, 5);
        g.dispose();
        return im;
    }

    // ------------------------------------------------------------------------------------ the engine's run

    record EngineRun(float[] embeddings, long[] embeddingShape, float[] noise, long[] shape, float[] xInit,
                     float[] latents, Generation generation, RecordingTrace trace) {
    }

    static GenerationSettings plan(List<String> prompts, double guidance, long seed, Sampler sampler, int steps) {
        return Plans.plan(prompts, "", guidance > 1, guidance, seed, Optional.empty(), SIZE, SIZE, 1,
                sampler, steps);
    }

    static EngineRun run(GenerationSettings plan) {
        RecordingTrace trace = new RecordingTrace();
        Generation g = Plans.run(model, plan, trace);
        RecordingTrace.Recorded text = trace.get("unet_in_encoder_hidden_states_call0");
        RecordingTrace.Recorded noise = trace.get("initial_noise");
        float[] xInit = trace.has("init_latents") ? IndependentSamplerTest.floats(trace.get("init_latents").values())
                : null;
        return new EngineRun(IndependentSamplerTest.floats(text.values()), text.shape(),
                IndependentSamplerTest.floats(noise.values()), noise.shape(), xInit,
                IndependentSamplerTest.floats(trace.get("final_latents").values()), g, trace);
    }

    static GenerationSettings withImage(GenerationSettings plan, BufferedImage image, double strength, BufferedImage mask) {
        return plan.withImage(new ImageInput(List.of(image), strength, Optional.ofNullable(mask), false));
    }

    // ---------------------------------------------------------------------- the independent implementation

    static float[] velocity(float[] x, long[] shape, float t, EngineRun run, double guidance) {
        boolean guided = guidance > 1;
        int n = x.length;
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            float[] input = x;
            long[] inShape = shape.clone();
            if (guided) {
                input = new float[2 * n];
                System.arraycopy(x, 0, input, 0, n);
                System.arraycopy(x, 0, input, n, n);
                inShape[0] = 2 * shape[0];
            }
            float[] out = Tensors.toFloats(unet.forward(new IValueVector(
                    new IValue(Tensors.fromFloats(input, inShape)),
                    new IValue(Tensors.fromFloats(IndependentSamplerTest.filled((int) inShape[0], t), inShape[0])),
                    new IValue(Tensors.fromFloats(run.embeddings(), run.embeddingShape())))).toTensor());
            if (!guided) {
                return out;
            }
            float w = (float) guidance;
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                float u = out[i];
                float diff = out[n + i] - u;
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
                    new IValue(Tensors.fromFloats(IndependentSamplerTest.filled((int) shape[0], s), shape[0]))))
                    .toTensor());
        }
    }

    /** Formula 1: z = s*noise + (1-s)*x_init, in float32 in this order (s = float(strength), 1 - s in float32). */
    static float[] start(float[] noise, float[] xInit, double strength) {
        float s = (float) strength;
        float oneMinus = 1f - s;
        float[] z = new float[noise.length];
        for (int i = 0; i < z.length; i++) {
            float a = s * noise[i];
            float b = oneMinus * xInit[i];
            z[i] = a + b;
        }
        return z;
    }

    /** The mask on the latent grid: mean grey of each f x f cell, 1 where >= 0.5. Per pixel (R+G+B)/765. */
    static float[] latentMask(BufferedImage mask) {
        int w = mask.getWidth() / f;
        int h = mask.getHeight() / f;
        float[] m = new float[w * h];
        for (int cy = 0; cy < h; cy++) {
            for (int cx = 0; cx < w; cx++) {
                double sum = 0;
                for (int y = 0; y < f; y++) {
                    for (int x = 0; x < f; x++) {
                        int p = mask.getRGB(cx * f + x, cy * f + y);
                        sum += (((p >> 16) & 0xff) + ((p >> 8) & 0xff) + (p & 0xff)) / 765.0;
                    }
                }
                m[cy * w + cx] = sum / (f * f) >= 0.5 ? 1f : 0f;
            }
        }
        return m;
    }

    /** Formula 3: z <- m z + (1 - m)(r noise + (1 - r) x_init), m broadcast over batch and channels. */
    static float[] blend(float[] z, float[] m, float[] noise, float[] xInit, float r) {
        if (m == null) {
            return z;
        }
        float q = 1f - r;
        float[] out = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            float mi = m[i % m.length];
            float noisy = r * noise[i] + q * xInit[i];
            out[i] = mi * z[i] + (1f - mi) * noisy;
        }
        return out;
    }

    /** Formula 2 for Euler: t_i = t0 (1 - i/N) with t0 = s T (float64, fed as float32), dt = s/N. */
    static float[] euler(EngineRun run, int steps, double guidance, double strength, float[] m) {
        float[] x = strength == 1.0 ? run.noise() : start(run.noise(), run.xInit(), strength);
        double t0 = strength * 1000.0;
        float dt = (float) (strength / steps);
        for (int i = 0; i < steps; i++) {
            float t = (float) (t0 * (1.0 - (double) i / steps));
            x = IndependentSamplerTest.axpy(x, dt, velocity(x, run.shape(), t, run, guidance));
            float r = (float) (strength * (1.0 - (double) (i + 1) / steps)); // t_{i+1} / T
            x = blend(x, m, run.noise(), run.xInit(), r);
        }
        return x;
    }

    /** torch.linspace(1 - s, 1, N + 1) in float32, from LibTorch itself. */
    static float[] torchLinspace(float from, int steps) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toFloats(torch.linspace(new Scalar((double) from), new Scalar(1.0), steps + 1));
        }
    }

    /** Formula 2 for Heun/FlowTurbo: paper time s on linspace(1 - s, 1, N+1), t = (1 - s_i) T; H^a P^b R^c. */
    static float[] flowTurbo(EngineRun run, int heun, int pseudo, int refinerSteps, double guidance,
                             double strength, float[] m) {
        int n = heun + pseudo + refinerSteps;
        float[] s = torchLinspace(1f - (float) strength, n);
        float delta = s[1] - s[0];
        float half = delta / 2f;
        float[] x = strength == 1.0 ? run.noise() : start(run.noise(), run.xInit(), strength);
        float[] carry = null;
        int i = 0;
        for (int k = 0; k < heun + pseudo; k++, i++) {
            float[] d0 = k < heun ? velocity(x, run.shape(), (1f - s[i]) * 1000f, run, guidance) : carry;
            float[] xTilde = IndependentSamplerTest.axpy(x, delta, d0);
            float[] d1 = velocity(xTilde, run.shape(), (1f - s[i + 1]) * 1000f, run, guidance);
            x = IndependentSamplerTest.trapezoid(x, half, d0, d1);
            x = blend(x, m, run.noise(), run.xInit(), 1f - s[i + 1]);
            carry = d1;
        }
        for (int k = 0; k < refinerSteps; k++, i++) {
            float[] v = carry;
            float[] d0 = IndependentSamplerTest.add(v, refine(x, v, run.shape(), s[i]));
            float[] xTilde = IndependentSamplerTest.axpy(x, delta, d0);
            float[] d1 = IndependentSamplerTest.add(d0, refine(xTilde, v, run.shape(), s[i + 1]));
            x = IndependentSamplerTest.trapezoid(x, half, d0, d1);
            x = blend(x, m, run.noise(), run.xInit(), 1f - s[i + 1]);
            carry = d0;
        }
        return x;
    }

    static void assertClose(String what, float[] expected, float[] actual) {
        double d = IndependentSamplerTest.maxDiff(expected, actual);
        System.out.printf("%-70s max |diff| %.3g%n", what, d);
        assertTrue(d <= TOLERANCE, what + ": max |diff| " + d);
    }

    static void assertBitwise(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " differs: " + expected[i] + " vs " + actual[i]);
            }
        }
    }

    static void assertSameImages(String what, Generation a, Generation b) {
        assertEquals(a.images().size(), b.images().size());
        for (int k = 0; k < a.images().size(); k++) {
            BufferedImage x = a.images().get(k);
            BufferedImage y = b.images().get(k);
            for (int r = 0; r < x.getHeight(); r++) {
                for (int c = 0; c < x.getWidth(); c++) {
                    assertEquals(x.getRGB(c, r), y.getRGB(c, r), what + ": image " + k + " pixel " + c + "," + r);
                }
            }
        }
    }

    // -------------------------------------------------------------------------------------------- tests

    @Test
    void theStartPointAndTheSubIntervalEulerGridMatchTheFormulas() {
        BufferedImage image = picture(1);
        EngineRun a = run(withImage(plan(List.of("a red fox"), 1.5, 7, Sampler.euler(), 1), image, 0.6, null));
        assertEquals(0.6, a.generation().settings().strength());
        assertBitwise("start point s=0.6", start(a.noise(), a.xInit(), 0.6),
                IndependentSamplerTest.floats(a.trace().get("start_latents").values()));
        assertClose("one-step InstaFlow at s=0.6: z + 0.6 v(z, 600)", euler(a, 1, 1.5, 0.6, null), a.latents());
        assertEquals(1, a.generation().denoiserEvaluations());
        float t0 = IndependentSamplerTest.floats(a.trace().get("unet_in_timestep_call0").values())[0];
        assertEquals(600f, t0, "t0 = s T");

        EngineRun b = run(withImage(plan(List.of("a castle", "two dogs"), 0.0, 11, Sampler.euler(), 3), image, 0.35,
                null));
        assertClose("euler N=3 s=0.35 no guidance, two prompts, one image", euler(b, 3, 0.0, 0.35, null),
                b.latents());
        float[] xb = b.xInit();
        int half = xb.length / 2;
        for (int i = 0; i < half; i++) {
            assertEquals(xb[i], xb[half + i], "one init image for every prompt");
        }
    }

    @Test
    void theSubIntervalLinspaceIsLibTorchsBitForBit() {
        for (double s : new double[] {1.0, 0.75, 0.6, 0.35, 0.1}) {
            for (int n = 1; n <= 12; n++) {
                float[] expected = torchLinspace(1f - (float) s, n);
                float[] ours = LinspaceGridProbe.points(n, s);
                for (int i = 0; i <= n; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(ours[i]),
                            "s=" + s + " N=" + n + " point " + i + ": torch " + expected[i] + " vs " + ours[i]);
                }
            }
        }
    }

    @Test
    void heunAndFlowTurboOnTheSubIntervalMatchTheFormulas() {
        BufferedImage image = picture(2);
        EngineRun h = run(withImage(plan(List.of("a lighthouse"), 1.5, 3, Sampler.heun(), 2), image, 0.7, null));
        assertClose("heun N=2 s=0.7 w=1.5", flowTurbo(h, 2, 0, 0, 1.5, 0.7, null), h.latents());
        assertEquals(4, h.generation().denoiserEvaluations());

        EngineRun t = run(withImage(plan(List.of("a quiet lake"), 1.5, 5, Sampler.flowTurbo(1, 1, 2), 4), image,
                0.5, null));
        assertClose("flowturbo H1P1R2 s=0.5 w=1.5", flowTurbo(t, 1, 1, 2, 1.5, 0.5, null), t.latents());
        assertEquals(4, t.generation().refinerEvaluations());
    }

    @Test
    void theMaskBlendMatchesTheFormulaForEverySampler() {
        BufferedImage image = picture(3);
        BufferedImage mask = ragged();
        float[] m = latentMask(mask);
        EngineRun e = run(withImage(plan(List.of("a bowl of fruit"), 1.5, 21, Sampler.euler(), 3), image, 0.8,
                mask));
        assertArrayEquals(m, IndependentSamplerTest.floats(e.trace().get("latent_mask").values()),
                "the latent mask: cell means thresholded at 0.5");
        float ones = 0;
        for (float v : m) {
            ones += v;
        }
        assertTrue(ones > 0 && ones < m.length, "the ragged mask repaints some cells and keeps others: " + ones);
        assertTrue(e.generation().settings().masked());
        assertClose("euler N=3 s=0.8 masked", euler(e, 3, 1.5, 0.8, m), e.latents());

        EngineRun h = run(withImage(plan(List.of("a bowl of fruit"), 0.0, 21, Sampler.heun(), 2), image, 1.0,
                mask));
        assertClose("heun N=2 s=1 masked (inpainting from pure noise)", flowTurbo(h, 2, 0, 0, 0.0, 1.0, m),
                h.latents());

        EngineRun t = run(withImage(plan(List.of("a red car"), 1.5, 8, Sampler.flowTurbo(1, 1, 1), 3), image, 0.6,
                mask));
        assertClose("flowturbo H1P1R1 s=0.6 masked", flowTurbo(t, 1, 1, 1, 1.5, 0.6, m), t.latents());

        // In the kept cells the final latents are x_init exactly (the blend at t = 0 is a selection).
        int plane = m.length;
        for (int i = 0; i < t.latents().length; i++) {
            if (m[i % plane] == 0f) {
                assertEquals(t.xInit()[i], t.latents()[i], "kept latent " + i);
            }
        }
    }

    @Test
    void strengthOneIsTextToImageBitForBitForEverySampler() {
        BufferedImage image = picture(4);
        BufferedImage white = solid(Color.WHITE);
        for (Sampler sampler : new Sampler[] {Sampler.euler(), Sampler.heun(), Sampler.flowTurbo(1, 1, 1)}) {
            int steps = sampler.fixedSteps().orElse(2);
            GenerationSettings text = plan(List.of("an astronaut"), 1.5, 42, sampler, steps);
            EngineRun t2i = run(text);
            EngineRun s1 = run(withImage(text, image, 1.0, null));
            assertBitwise(sampler + ": s=1 vs text-to-image", t2i.latents(), s1.latents());
            assertSameImages(sampler + ": s=1 vs text-to-image", t2i.generation(), s1.generation());
            assertEquals(1.0, s1.generation().settings().strength());
            EngineRun whiteMask = run(withImage(text, image, 1.0, white));
            assertBitwise(sampler + ": all-white mask at s=1 vs text-to-image", t2i.latents(), whiteMask.latents());
            assertSameImages(sampler + ": all-white mask at s=1", t2i.generation(), whiteMask.generation());
            assertTrue(t2i.generation().settings().image().isEmpty());
        }
    }

    @Test
    void anAllBlackMaskReturnsTheEncodeDecodeOfTheInput() {
        BufferedImage image = picture(5);
        BufferedImage black = solid(Color.BLACK);
        Generation first = null;
        for (Sampler sampler : new Sampler[] {Sampler.euler(), Sampler.heun(), Sampler.flowTurbo(1, 1, 1)}) {
            for (double s : new double[] {1.0, 0.5}) {
                int steps = sampler.fixedSteps().orElse(2);
                EngineRun r = run(withImage(plan(List.of("anything"), 1.5, 9, sampler, steps), image, s, black));
                assertBitwise(sampler + " s=" + s + ": final latents = x_init", r.xInit(), r.latents());
                if (first == null) {
                    first = r.generation();
                } else {
                    assertSameImages(sampler + " s=" + s + ": the decode of x_init", first, r.generation());
                }
            }
        }
    }

    @Test
    void theEncoderStageFeedsTwoXMinusOneAndScalesTheMean() {
        BufferedImage a = picture(6);
        BufferedImage b = picture(7);
        GenerationSettings base = Plans.plan(List.of("one", "two"), "", false, 0.0, 3, Optional.empty(), SIZE,
                SIZE, 2, Sampler.euler(), 1);
        EngineRun r = run(base.withImage(new ImageInput(List.of(a, b), 0.5, Optional.empty(), false)));
        float[] in = IndependentSamplerTest.floats(r.trace().get("vae_encoder_in").values());
        int plane = SIZE * SIZE;
        BufferedImage[] images = {a, b};
        for (int k = 0; k < 2; k++) {
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    int p = images[k].getRGB(x, y);
                    int[] rgb = {(p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff};
                    for (int c = 0; c < 3; c++) {
                        float unit = rgb[c] / 255f;
                        float expected = unit * 2f - 1f;
                        assertEquals(expected, in[k * 3 * plane + c * plane + y * SIZE + x], "2x - 1");
                    }
                }
            }
        }
        float[] mean = IndependentSamplerTest.floats(r.trace().get("vae_encoder_mean").values());
        float[] xInit = r.xInit();
        int latent = mean.length / 2;
        assertEquals(4 * latent, xInit.length, "two images per prompt: x_init for 4 batch items");
        for (int b2 = 0; b2 < 4; b2++) {
            int image = b2 / 2;
            for (int i = 0; i < latent; i++) {
                assertEquals(mean[image * latent + i] * 0.18215f, xInit[b2 * latent + i],
                        Math.ulp(xInit[b2 * latent + i]), "x_init = mean * scaling_factor");
            }
        }
        assertNotEquals(xInit[0], xInit[2 * latent], "one init image per prompt");
    }
}
