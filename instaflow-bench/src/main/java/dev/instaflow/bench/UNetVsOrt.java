package dev.instaflow.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.gson.GsonBuilder;
import dev.instaflow.engine.nn.ConvPacking;
import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.nn.unet.UNet2DConditionModel;
import dev.instaflow.engine.nn.unet.UNetConfig;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.snapshot.ComponentWeights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * The same UNet through the SDK (the Java network of the snapshot loader, convolutions prepacked; optionally also
 * with eager convolutions, {@code -Dinstaflow.cpu.conv=eager}'s path) and through ONNX Runtime's Java API (ALL_OPT,
 * intra-op threads N, inter-op 1, sequential), in one process, interleaved call by call: for each size, thread
 * count and batch, {@code --warmup} untimed calls each, then {@code --runs} rounds of one call per backend. Sizes:
 * {@code tiny} (the shared fixture's SD-1.5-shaped UNet and weights, 16×16 latents), {@code medium} (SD-1.5
 * structure, widths 128–512, 32×32 latents, seeded random weights) and {@code full} (SD-1.5's UNet, 320–1280,
 * 64×64 latents, seeded random weights). The ONNX graph is written from the same weights by {@link OnnxUNetWriter}
 * (no Python needed). Outputs are compared before timing.
 *
 * <pre>java -Xmx4g -cp "instaflow-bench/target/lib/*:instaflow-bench/target/classes" dev.instaflow.bench.UNetVsOrt
 *     --sizes tiny,medium --threads 1,2 --batch 1,2,4,8 --runs 5 --eager tiny,medium --out r.json</pre>
 */
public final class UNetVsOrt {
    private UNetVsOrt() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("--sizes", "tiny,medium", "--threads", "1,2",
                "--batch", "1,2,4,8", "--runs", "5", "--warmup", "1", "--eager", "", "--work", "/work/fullsize/bench",
                "--fixture", "../shared/fixtures/tiny-sd15/model/unet", "--out", ""));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!a.containsKey(args[i])) {
                throw new IllegalArgumentException("unknown option " + args[i] + "; options: " + a.keySet());
            }
            a.put(args[i], args[i + 1]);
        }
        TorchRuntime.ensureLoaded();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("cpu", cpu());
        report.put("OPENBLAS_CORETYPE", String.valueOf(System.getenv("OPENBLAS_CORETYPE")));
        report.put("OMP_WAIT_POLICY", String.valueOf(System.getenv("OMP_WAIT_POLICY")));
        report.put("load_start", FullSizeReport.loadAverage());
        List<Map<String, Object>> rows = new ArrayList<>();
        report.put("rows", rows);
        List<String> eagerSizes = Arrays.asList(a.get("--eager").split(","));
        for (String size : a.get("--sizes").split(",")) {
            runSize(size, a, eagerSizes.contains(size), rows, report);
        }
        report.put("load_end", FullSizeReport.loadAverage());
        String json = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create()
                .toJson(report);
        if (!a.get("--out").isEmpty()) {
            Files.writeString(Path.of(a.get("--out")), json);
        }
        System.out.println(table(rows));
    }

    private static void runSize(String size, Map<String, String> a, boolean eager, List<Map<String, Object>> rows,
                                Map<String, Object> report) throws IOException, OrtException {
        Path work = Files.createDirectories(Path.of(a.get("--work")).resolve(size));
        int latent;
        UNetConfig config;
        Map<String, Tensor> dense = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode()) {
            long t0 = System.nanoTime();
            if (size.equals("tiny")) {
                Path dir = Path.of(a.get("--fixture"));
                config = UNetConfig.read(dir.resolve("config.json"));
                StateDict d = ComponentWeights.load("unet", dir, "diffusion_pytorch_model", Optional.empty(),
                        t -> t);
                for (String k : d.keys()) {
                    Tensor t = d.entry(k).tensor();
                    t.retainReference();
                    dense.put(k, t);
                }
                d.close();
                latent = 16;
            } else {
                Path cfg = work.resolve("config.json");
                Files.writeString(cfg, sd15Config(size.equals("full") ? new int[] {320, 640, 1280, 1280}
                        : new int[] {128, 256, 512, 512}));
                config = UNetConfig.read(cfg);
                RandomWeights rw = new RandomWeights(dense, new Random(1234), "");
                String before = System.getProperty(ConvPacking.PROPERTY);
                System.setProperty(ConvPacking.PROPERTY, "eager"); // a throw-away build that only draws weights
                UNet2DConditionModel.build(config, rw, work).close();
                restore(before);
                latent = size.equals("full") ? 64 : 32;
            }
            long params = dense.values().stream().mapToLong(Tensor::numel).sum();
            System.out.printf(Locale.ROOT, "%s: %,d parameters, weights ready in %.1f s%n", size, params,
                    (System.nanoTime() - t0) / 1e9);
            Path onnx = work.resolve("unet.onnx");
            t0 = System.nanoTime();
            OnnxUNetWriter.write(config, dense::get, latent, onnx);
            System.out.printf(Locale.ROOT, "%s: ONNX written in %.1f s (%s)%n", size, (System.nanoTime() - t0) / 1e9,
                    onnx);
            StateDict packedDict = dict(dense, work);
            UNet2DConditionModel packed = UNet2DConditionModel.build(config, packedDict, work);
            packedDict.requireAllTaken();
            StateDict eagerDict = null;
            UNet2DConditionModel plain = null;
            if (eager) {
                eagerDict = dict(dense, work);
                String before = System.getProperty(ConvPacking.PROPERTY);
                System.setProperty(ConvPacking.PROPERTY, "eager");
                plain = UNet2DConditionModel.build(config, eagerDict, work);
                restore(before);
            }
            for (Tensor t : dense.values()) {
                t.releaseReference(); // the dicts hold their own references
            }
            dense.clear();
            for (String th : a.get("--threads").split(",")) {
                int threads = Integer.parseInt(th);
                TorchRuntime.setIntraOpThreads(threads);
                OrtEnvironment env = OrtEnvironment.getEnvironment();
                try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                    opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                    opts.setIntraOpNumThreads(threads);
                    opts.setInterOpNumThreads(1);
                    opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                    long s0 = System.nanoTime();
                    try (OrtSession session = env.createSession(onnx.toString(), opts)) {
                        System.out.printf(Locale.ROOT, "%s: ORT session (%d threads) in %.1f s%n", size, threads,
                                (System.nanoTime() - s0) / 1e9);
                        for (String bs : a.get("--batch").split(",")) {
                            int batch = Integer.parseInt(bs);
                            rows.add(measure(size, threads, batch, latent, config, packed, plain, session, env,
                                    Integer.parseInt(a.get("--warmup")), Integer.parseInt(a.get("--runs"))));
                        }
                    }
                }
            }
            packedDict.close();
            if (eagerDict != null) {
                eagerDict.close();
            }
        }
    }

    private static Map<String, Object> measure(String size, int threads, int batch, int latent, UNetConfig c,
                                               UNet2DConditionModel packed, UNet2DConditionModel plain,
                                               OrtSession session, OrtEnvironment env, int warmup, int runs)
            throws OrtException {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("size", size);
        row.put("threads", threads);
        row.put("batch", batch);
        row.put("load_before", FullSizeReport.loadAverage());
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode()) {
            torch.manual_seed(1000 + batch);
            long d = c.crossAttentionDim();
            Tensor sample = torch.randn(batch, c.inChannels(), latent, latent);
            Tensor t = Tensors.fromFloats(new float[] {999f}, 1);
            Tensor ctx = torch.randn(batch, 77, d);
            Map<String, OnnxTensor> in = new LinkedHashMap<>();
            in.put("sample", OnnxTensor.createTensor(env, FloatBuffer.wrap(Tensors.toFloats(sample)),
                    new long[] {batch, c.inChannels(), latent, latent}));
            in.put("timestep", OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[] {999f}), new long[] {1}));
            in.put("encoder_hidden_states", OnnxTensor.createTensor(env, FloatBuffer.wrap(Tensors.toFloats(ctx)),
                    new long[] {batch, 77, d}));
            try {
                float[][] ortOut = new float[1][];
                Runnable ort = () -> {
                    try (OrtSession.Result r = session.run(in)) {
                        FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                        ortOut[0] = new float[fb.remaining()];
                        fb.get(ortOut[0]);
                    } catch (OrtException e) {
                        throw new IllegalStateException(e);
                    }
                };
                float[][] javaOut = new float[1][];
                Runnable java = () -> {
                    try (PointerScope s = new PointerScope()) {
                        javaOut[0] = Tensors.toFloats(packed.predict(sample, t, ctx));
                    }
                };
                float[][] eagerOut = new float[1][];
                Runnable eager = plain == null ? null : () -> {
                    try (PointerScope s = new PointerScope()) {
                        eagerOut[0] = Tensors.toFloats(plain.predict(sample, t, ctx));
                    }
                };
                java.run();
                ort.run();
                row.put("max_abs_diff_java_ort", maxAbsDiff(javaOut[0], ortOut[0]));
                row.put("max_abs_out", maxAbs(javaOut[0]));
                if (eager != null) {
                    eager.run();
                    row.put("max_abs_diff_java_eager", maxAbsDiff(javaOut[0], eagerOut[0]));
                }
                for (int i = 1; i < warmup; i++) {
                    java.run();
                    ort.run();
                    if (eager != null) {
                        eager.run();
                    }
                }
                List<Double> tj = new ArrayList<>();
                List<Double> to = new ArrayList<>();
                List<Double> te = new ArrayList<>();
                for (int r = 0; r < runs; r++) {
                    tj.add(time(java));
                    to.add(time(ort));
                    if (eager != null) {
                        te.add(time(eager));
                    }
                }
                put(row, "java", tj, batch);
                put(row, "ort", to, batch);
                if (eager != null) {
                    put(row, "java_eager", te, batch);
                }
                List<Double> ratios = new ArrayList<>();
                for (int r = 0; r < runs; r++) {
                    ratios.add(tj.get(r) / to.get(r));
                }
                row.put("java_over_ort_median_of_pairs", median(ratios));
                row.put("java_over_ort", median(tj) / median(to));
                if (eager != null) {
                    row.put("eager_over_java", median(te) / median(tj));
                }
            } finally {
                for (OnnxTensor x : in.values()) {
                    x.close();
                }
            }
        }
        row.put("load_after", FullSizeReport.loadAverage());
        System.out.printf(Locale.ROOT, "%s t%d b%d: java %.1f ms, ort %.1f ms, java/ort %.2f%s; max|d| %.1e%n", size,
                threads, batch, (double) row.get("java_median_ms"), (double) row.get("ort_median_ms"),
                (double) row.get("java_over_ort"), row.containsKey("java_eager_median_ms")
                        ? String.format(Locale.ROOT, ", eager %.1f ms", (double) row.get("java_eager_median_ms"))
                        : "", (double) row.get("max_abs_diff_java_ort"));
        return row;
    }

    private static void put(Map<String, Object> row, String name, List<Double> times, int batch) {
        row.put(name + "_ms", times);
        row.put(name + "_median_ms", median(times));
        row.put(name + "_per_image_ms", median(times) / batch);
        row.put(name + "_spread", times.stream().mapToDouble(x -> x).max().orElse(0)
                / times.stream().mapToDouble(x -> x).min().orElse(1));
    }

    private static double time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    static String table(List<Map<String, Object>> rows) {
        StringBuilder sb = new StringBuilder("| size | threads | batch | ORT ms (per image) | SDK ms (per image) | "
                + "SDK / ORT | spread ORT / SDK | SDK eager-conv ms | max abs diff SDK vs ORT |\n"
                + "|---|---|---|---|---|---|---|---|---|\n");
        for (Map<String, Object> r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.1f (%.1f) | %.1f (%.1f) | **%.2f** | %.2f / %.2f"
                            + " | %s | %.1e |%n", r.get("size"), (int) r.get("threads"), (int) r.get("batch"),
                    (double) r.get("ort_median_ms"), (double) r.get("ort_per_image_ms"),
                    (double) r.get("java_median_ms"), (double) r.get("java_per_image_ms"),
                    (double) r.get("java_over_ort"), (double) r.get("ort_spread"), (double) r.get("java_spread"),
                    r.containsKey("java_eager_median_ms")
                            ? String.format(Locale.ROOT, "%.1f", (double) r.get("java_eager_median_ms")) : "",
                    (double) r.get("max_abs_diff_java_ort")));
        }
        return sb.toString();
    }

    private static void restore(String property) {
        if (property == null) {
            System.clearProperty(ConvPacking.PROPERTY);
        } else {
            System.setProperty(ConvPacking.PROPERTY, property);
        }
    }

    private static StateDict dict(Map<String, Tensor> tensors, Path file) {
        StateDict d = new StateDict("unet", file);
        tensors.forEach((k, v) -> d.put(k, v, file));
        return d;
    }

    private static double maxAbsDiff(float[] x, float[] y) {
        if (x.length != y.length) {
            return Double.NaN;
        }
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    private static double maxAbs(float[] x) {
        double m = 0;
        for (float v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.isEmpty() ? Double.NaN : s.get(s.size() / 2);
    }

    private static String cpu() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    /** SD-1.5's UNet config with other widths (heads 8, cross-attention 768, conv projections). */
    static String sd15Config(int[] widths) {
        return """
                {"_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 8,
                 "block_out_channels": %s, "center_input_sample": false, "cross_attention_dim": 768,
                 "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                   "DownBlock2D"], "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0,
                 "in_channels": 4, "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05,
                 "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}
                """.formatted(Arrays.toString(widths));
    }

    /**
     * Seeded random weights of whatever shape the network asks for, kept in {@code into}: matrices and kernels
     * N(0, 1/fan_in), norm scales 1 + 0.1·N, biases 0.05·N (activations stay O(1) through the depth).
     */
    private record RandomWeights(Map<String, Tensor> into, Random seed, String prefix) implements Weights {
        @Override
        public Tensor take(String key, long... shape) {
            String full = fullKey(key);
            Tensor existing = into.get(full);
            if (existing != null) {
                return existing;
            }
            Tensor t;
            try (PointerScope own = new PointerScope()) {
                torch.manual_seed(seed.nextLong() & Long.MAX_VALUE);
                if (shape.length >= 2) {
                    long fanIn = 1;
                    for (int i = 1; i < shape.length; i++) {
                        fanIn *= shape[i];
                    }
                    t = torch.randn(shape).mul(new Scalar(1.0 / Math.sqrt(fanIn)));
                } else if (key.equals("weight")) {
                    t = torch.randn(shape).mul(new Scalar(0.1)).add(new Scalar(1.0));
                } else {
                    t = torch.randn(shape).mul(new Scalar(0.05));
                }
                t.retainReference();
            }
            into.put(full, t);
            return t;
        }

        @Override
        public TensorOptional takeOptional(String key, long... shape) {
            TensorOptional o = new TensorOptional(take(key, shape));
            o.retainReference(); // lives as long as the process: the throw-away build's bias wrappers
            return o;
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
            return new RandomWeights(into, seed, fullKey(child));
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
