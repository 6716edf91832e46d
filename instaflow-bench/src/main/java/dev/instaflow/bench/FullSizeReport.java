package dev.instaflow.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.Device;
import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.Precision;
import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.nn.clip.ClipTextModel;
import dev.instaflow.engine.nn.unet.UNet2DConditionModel;
import dev.instaflow.engine.nn.unet.UNetBlockTimer;
import dev.instaflow.engine.nn.unet.UNetConfig;
import dev.instaflow.engine.nn.vae.VaeDecoder;
import dev.instaflow.engine.nn.vae.VaeEncoder;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.runtime.TorchScriptPart;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.snapshot.ComponentWeights;
import dev.instaflow.engine.snapshot.SafetensorsFile;
import dev.instaflow.engine.snapshot.Snapshot;
import dev.instaflow.engine.snapshot.SnapshotConfigs;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * Full-size measurements of a diffusers snapshot on the CPU (see instaflow-bench/README.md). Prints progress to
 * stdout and writes a JSON report (rewritten after every phase, so an interrupted run keeps what it measured).
 */
@Command(name = "fullsize-report", mixinStandardHelpOptions = true,
        description = "Parity with diffusers, one 512x512 image, load memory, UNet vs TorchScript and ONNX Runtime.")
public final class FullSizeReport implements Callable<Integer> {
    enum Mode { report, load }

    @Option(names = "--snapshot", description = "diffusers snapshot folder")
    Path snapshot;
    @Option(names = "--unet", description = "a bare UNet folder (config.json + safetensors) instead of a snapshot:"
            + " UNet parity and speed only")
    Path unetDir;
    @Option(names = "--ref", description = "reference folder (manifest.json + .bin) of the same snapshot")
    Path ref;
    @Option(names = "--bundle", description = "bundle (or folder) whose denoiser.pt was traced from the same UNet")
    Path bundle;
    @Option(names = "--onnx", description = "ONNX export of the same UNet (inputs sample, timestep, encoder_hidden_states)")
    Path onnx;
    @Option(names = "--threads", defaultValue = "2", description = "intra-op threads for every backend (default 2)")
    int threads;
    @Option(names = "--runs", defaultValue = "3", description = "timed runs per UNet backend (default 3)")
    int runs;
    @Option(names = "--warmup", defaultValue = "1", description = "untimed runs per UNet backend first (default 1)")
    int warmup;
    @Option(names = "--mode", defaultValue = "report", description = "report (default) or load (one load, fresh JVM)")
    Mode mode;
    @Option(names = "--variant", description = "weight variant, e.g. fp16")
    String variant;
    @Option(names = "--skip", split = ",", description = "phases to skip: text,vae,unet,torchscript,onnx,blocks,image")
    Set<String> skip = Set.of();
    @Option(names = "--image", description = "PNG to write (default: next to --out)")
    Path image;
    @Option(names = "--prompt", defaultValue = "a photo of a cat")
    String prompt;
    @Option(names = "--seed", defaultValue = "1234")
    long seed;
    @Option(names = "--ort-profile", description = "ONNX Runtime profile file prefix (per-node times, summed by block)")
    Path ortProfile;
    @Option(names = "--every-tap", description = "one more UNet forward timing every tap (sub-blocks)")
    boolean everyTap;
    @Option(names = "--out", required = true, description = "report JSON")
    Path out;

    private final Map<String, Object> report = new LinkedHashMap<>();
    private final Gson gson = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
            .disableHtmlEscaping().create();

    public static void main(String[] args) {
        System.exit(new CommandLine(new FullSizeReport()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        // First, before anything touches JavaCPP: it also lifts JavaCPP's resident-memory ceiling (a full-size UNet
        // beside an ONNX Runtime session is ~9 GB of native memory).
        TorchRuntime.ensureLoaded();
        TorchRuntime.setIntraOpThreads(threads);
        report.put("created", Instant.now().toString());
        report.put("snapshot", String.valueOf(snapshot));
        if (unetDir != null) {
            report.put("unet_dir", unetDir.toString());
        } else if (snapshot == null) {
            throw new CommandLine.ParameterException(new CommandLine(this), "give --snapshot or --unet");
        }
        report.put("mode", mode.name());
        report.put("machine", machine());
        if (mode == Mode.load) {
            load();
        } else {
            full();
        }
        save();
        return 0;
    }

    // ------------------------------------------------------------------ load (one per fresh JVM)

    private void load() throws IOException {
        Optional<String> v = Optional.ofNullable(variant);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("variant", variant);
        m.put("weights", weightFiles(v));
        System.gc();
        m.put("before", ProcMemory.snapshot());
        m.put("peak_reset", ProcMemory.resetPeak());
        long rss0 = ProcMemory.rssBytes();
        LoadOptions.Builder b = LoadOptions.builder().device(Device.cpu()).warmUp(false);
        v.ifPresent(b::variant);
        long t0 = System.nanoTime();
        try (InstaFlow model = InstaFlow.load(snapshot, b.build())) {
            double s = (System.nanoTime() - t0) / 1e9;
            m.put("load_s", s);
            m.put("after", ProcMemory.snapshot());
            long hwm = ProcMemory.hwmBytes();
            long rss = ProcMemory.rssBytes();
            @SuppressWarnings("unchecked")
            Map<String, Object> w = (Map<String, Object>) m.get("weights");
            long fileBytes = (Long) w.get("file_bytes");
            long f32Bytes = (Long) w.get("float32_bytes");
            m.put("peak_increase_bytes", hwm - rss0);
            m.put("resident_increase_bytes", rss - rss0);
            m.put("peak_increase_over_file_bytes", (hwm - rss0) / (double) fileBytes);
            m.put("peak_increase_over_float32_bytes", (hwm - rss0) / (double) f32Bytes);
            m.put("resident_increase_over_float32_bytes", (rss - rss0) / (double) f32Bytes);
            m.put("model", model.info().toString());
            System.out.printf("load %s%s: %.1f s; RSS %s -> %s, peak %s; weights on disk %s, as float32 %s;"
                            + " peak increase / float32 bytes = %.3f%n", snapshot, v.map(x -> " (" + x + ")").orElse(""),
                    s, ProcMemory.gib(rss0), ProcMemory.gib(rss), ProcMemory.gib(hwm), ProcMemory.gib(fileBytes),
                    ProcMemory.gib(f32Bytes), (hwm - rss0) / (double) f32Bytes);
        }
        report.put("load", m);
    }

    /** The safetensors files the snapshot load reads, their bytes and the float32 bytes of their tensors. */
    private Map<String, Object> weightFiles(Optional<String> v) {
        Map<String, Object> m = new LinkedHashMap<>();
        long file = 0, f32 = 0;
        List<String> names = new ArrayList<>();
        String[][] parts = {{"text_encoder", "model"}, {"unet", "diffusion_pytorch_model"},
                {"vae", "diffusion_pytorch_model"}};
        for (String[] p : parts) {
            ComponentWeights.Located located = ComponentWeights.locate(p[0], snapshot.resolve(p[0]), p[1], v);
            for (Path f : located.files()) {
                try {
                    file += Files.size(f);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                names.add(snapshot.relativize(f).toString());
                for (SafetensorsFile.Entry e : SafetensorsFile.open(f).entries()) {
                    long n = Arrays.stream(e.shape()).reduce(1, (a, c) -> a * c);
                    boolean floating = e.dtypeName().startsWith("F") || e.dtypeName().startsWith("BF");
                    f32 += floating ? 4 * n : (e.end() - e.begin());
                }
            }
        }
        m.put("files", names);
        m.put("file_bytes", file);
        m.put("float32_bytes", f32);
        return m;
    }

    // ------------------------------------------------------------------ the full report

    private void full() throws Exception {
        if (unetDir != null) {
            RefTensors r = RefTensors.open(ref);
            Map<String, Object> parity = new LinkedHashMap<>();
            report.put("parity", parity);
            report.put("reference", Map.of("dir", ref.toString(), "versions", r.manifest().get("versions")));
            try (DeviceContext device = DeviceContext.open(Optional.of(Device.cpu()), Precision.FLOAT32)) {
                unet(unetDir, UNetConfig.read(unetDir.resolve("config.json")), device, r, parity);
            }
            return;
        }
        Snapshot snap = Snapshot.open(snapshot, LoadOptions.defaults());
        SnapshotConfigs configs = snap.configs();
        RefTensors r = ref == null ? null : RefTensors.open(ref);
        Map<String, Object> parity = new LinkedHashMap<>();
        report.put("parity", parity);
        if (r != null) {
            report.put("reference", Map.of("dir", ref.toString(), "versions", r.manifest().get("versions"),
                    "performance", r.manifest().get("performance")));
        }
        try (DeviceContext device = DeviceContext.open(Optional.of(Device.cpu()), Precision.FLOAT32)) {
            if (r != null && !skip.contains("text")) {
                parity.put("text_encoder", textEncoder(snap, configs, device, r));
                save();
            }
            if (r != null && !skip.contains("vae")) {
                parity.putAll(vae(snap, configs, device, r));
                save();
            }
            if (r != null && !skip.contains("unet")) {
                unet(snap.component(Snapshot.UNET), configs.unet(), device, r, parity);
                save();
            }
        }
        if (!skip.contains("image")) {
            image();
            save();
        }
    }

    private Map<String, Object> textEncoder(Snapshot snap, SnapshotConfigs configs, DeviceContext device,
                                            RefTensors r) {
        Path dir = snap.component(Snapshot.TEXT_ENCODER);
        Map<String, Object> m = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
            long t0 = System.nanoTime();
            try (StateDict w = ComponentWeights.load("text encoder", dir, "model", Optional.empty(),
                    device::prepareWeight); ClipTextModel text = ClipTextModel.build(configs.textEncoder(), w, dir)) {
                w.requireAllTaken();
                m.put("load_s", secs(t0));
                Tensor ids = r.longTensor("input_ids");
                long t1 = System.nanoTime();
                Tensor out = text.encode(ids);
                m.put("forward_s", secs(t1));
                Diff d = Diff.of(Tensors.toFloats(out), r.floats("text_last_hidden_state"));
                m.put("shape", Tensors.shape(out));
                m.put("vs_diffusers", d.json());
                System.out.printf("text encoder %s: %s (forward %.2f s)%n", Tensors.shapeString(out), d,
                        m.get("forward_s"));
            }
        }
        return m;
    }

    private Map<String, Object> vae(Snapshot snap, SnapshotConfigs configs, DeviceContext device, RefTensors r) {
        Path dir = snap.component(Snapshot.VAE);
        Map<String, Object> dec = new LinkedHashMap<>();
        Map<String, Object> enc = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
            long t0 = System.nanoTime();
            try (StateDict w = ComponentWeights.load("vae", dir, "diffusion_pytorch_model", Optional.empty(),
                    device::prepareWeight);
                 VaeDecoder decoder = VaeDecoder.build(configs.vae(), w, dir);
                 VaeEncoder encoder = VaeEncoder.build(configs.vae(), w, dir)) {
                w.requireAllTaken();
                dec.put("load_s_decoder_and_encoder", secs(t0));
                if (r.has("vae_decoded")) {
                    try (PointerScope inner = new PointerScope()) {
                        long t1 = System.nanoTime();
                        Tensor img = decoder.decode(r.floatTensor("vae_decoder_in_latents"));
                        dec.put("forward_s", secs(t1));
                        dec.put("input", "vae_decoder_in_latents (z / scaling_factor)");
                        Diff d = Diff.of(Tensors.toFloats(img), r.floats("vae_decoded"));
                        dec.put("shape", Tensors.shape(img));
                        dec.put("vs_diffusers", d.json());
                        System.out.printf("VAE decoder %s: %s (forward %.2f s)%n", Tensors.shapeString(img), d,
                                dec.get("forward_s"));
                    }
                }
                if (r.has("vae_encoder_latent_mean")) {
                    try (PointerScope inner = new PointerScope()) {
                        long t1 = System.nanoTime();
                        Tensor mean = encoder.encodeMean(r.floatTensor("vae_encoder_in_x"));
                        enc.put("forward_s", secs(t1));
                        Diff d = Diff.of(Tensors.toFloats(mean), r.floats("vae_encoder_latent_mean"));
                        enc.put("shape", Tensors.shape(mean));
                        enc.put("vs_diffusers", d.json());
                        System.out.printf("VAE encoder mean %s: %s (forward %.2f s)%n", Tensors.shapeString(mean), d,
                                enc.get("forward_s"));
                    }
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vae_decoder", dec);
        m.put("vae_encoder", enc);
        return m;
    }

    private void unet(Path dir, UNetConfig config, DeviceContext device, RefTensors r,
                      Map<String, Object> parity) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        parity.put("unet", m);
        Map<String, Object> speed = new LinkedHashMap<>();
        report.put("unet_speed", speed);
        speed.put("threads", threads);
        speed.put("input_shape", r.shape("unet_in_sample"));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
            ProcMemory.resetPeak();
            long rss0 = ProcMemory.rssBytes();
            long t0 = System.nanoTime();
            // With --variant fp16 the UNet reads the fp16 file (cast to float32) and is compared with diffusers' run
            // of the same variant weights, where the reference has it.
            Optional<String> v = Optional.ofNullable(variant);
            String refOut = v.isPresent() && r.has("unet_out_" + v.get() + "_variant_weights")
                    ? "unet_out_" + v.get() + "_variant_weights" : "unet_out";
            m.put("variant", variant);
            m.put("reference_output", refOut);
            try (StateDict w = ComponentWeights.load("unet", dir, "diffusion_pytorch_model", v,
                    device::prepareWeight);
                 UNet2DConditionModel unet = UNet2DConditionModel.build(config, w, dir)) {
                w.requireAllTaken();
                m.put("load_s", secs(t0));
                m.put("load_rss_increase_bytes", ProcMemory.rssBytes() - rss0);
                m.put("load_peak_increase_bytes", ProcMemory.hwmBytes() - rss0);
                m.put("weights_bytes", w.bytes());
                Tensor sample = r.floatTensor("unet_in_sample");
                Tensor t = r.floatTensor("unet_in_timestep");
                Tensor ctx = r.floatTensor("unet_in_encoder_hidden_states");
                float[] want = r.floats(refOut);
                Supplier<float[]> java = () -> {
                    try (PointerScope s = new PointerScope()) {
                        return Tensors.toFloats(unet.predict(sample, t, ctx));
                    }
                };
                // The first Java call is the parity run (and the Java warm-up).
                long t1 = System.nanoTime();
                float[] javaOut = java.get();
                double first = secs(t1);
                Diff d = Diff.of(javaOut, want);
                m.put("first_forward_s", first);
                m.put("vs_diffusers", d.json());
                m.put("peak_after_first_forward_bytes", ProcMemory.hwmBytes());
                System.out.printf("UNet %s: %s (first forward %.1f s)%n", Arrays.toString(r.shape("unet_out")), d,
                        first);
                if (r.has("unet_out_fp16_variant_weights")) {
                    m.put("diffusers_fp16_variant_vs_fp32", Diff.of(r.floats("unet_out_fp16_variant_weights"),
                            want).json());
                }
                save();
                Map<String, List<Double>> javaTimes = new LinkedHashMap<>();
                if (bundle != null && !skip.contains("torchscript")) {
                    speed.put("torchscript", torchScript(device, sample, t, ctx, want, javaOut, java, javaTimes));
                    save();
                }
                if (onnx != null && !skip.contains("onnx")) {
                    speed.put("onnxruntime", onnxRuntime(r, want, javaOut, java, javaTimes));
                    save();
                }
                if (!skip.contains("blocks")) {
                    try (PointerScope s = new PointerScope()) {
                        long tb = System.nanoTime();
                        Map<String, Double> blocks = UNetBlockTimer.forward(unet, sample, t, ctx);
                        speed.put("java_blocks_ms", blocks);
                        speed.put("java_blocks_total_s", secs(tb));
                        System.out.println("Java UNet blocks (ms): " + blocks);
                        if (everyTap) {
                            Map<String, Double> taps = UNetBlockTimer.forward(unet, sample, t, ctx, true);
                            speed.put("java_taps_ms", taps);
                            System.out.println("Java UNet taps (ms): " + taps);
                        }
                    }
                }
            }
        }
    }

    private Map<String, Object> torchScript(DeviceContext device, Tensor sample, Tensor t, Tensor ctx, float[] want,
                                            float[] javaOut, Supplier<float[]> java,
                                            Map<String, List<Double>> javaTimes) {
        Path file = Files.isDirectory(bundle) ? bundle.resolve("denoiser.pt") : bundle;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", file.toString());
        long rss0 = ProcMemory.rssBytes();
        long t0 = System.nanoTime();
        try (TorchScriptPart part = TorchScriptPart.load("denoiser", file, "denoiser", 3,
                "(sample, timestep, text)", device)) {
            m.put("load_s", secs(t0));
            m.put("load_rss_increase_bytes", ProcMemory.rssBytes() - rss0);
            Supplier<float[]> ts = () -> {
                try (PointerScope s = new PointerScope()) {
                    return Tensors.toFloats(part.predict(sample, t, ctx));
                }
            };
            float[] tsOut = null;
            for (int i = 0; i < warmup; i++) {
                long tw = System.nanoTime();
                tsOut = ts.get();
                System.out.printf("TorchScript warm-up %.1f s%n", secs(tw));
            }
            List<Double> j = new ArrayList<>(), o = new ArrayList<>(), jc = new ArrayList<>(), oc = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                long a = System.nanoTime(), ac = cpuNanos();
                java.get();
                j.add(secs(a));
                jc.add((cpuNanos() - ac) / 1e9);
                long b = System.nanoTime(), bc = cpuNanos();
                tsOut = ts.get();
                o.add(secs(b));
                oc.add((cpuNanos() - bc) / 1e9);
                System.out.printf("run %d: Java %.2f s (cpu %.1f s), TorchScript %.2f s (cpu %.1f s)%n", i, j.get(i),
                        jc.get(i), o.get(i), oc.get(i));
            }
            m.put("java_cpu_s", jc);
            m.put("torchscript_cpu_s", oc);
            m.put("vs_diffusers", Diff.of(tsOut, want).json());
            m.put("vs_java", Diff.of(tsOut, javaOut).json());
            m.putAll(compare("torchscript", j, o));
            javaTimes.put("torchscript", j);
        }
        return m;
    }

    private Map<String, Object> onnxRuntime(RefTensors r, float[] want, float[] javaOut, Supplier<float[]> java,
                                            Map<String, List<Double>> javaTimes) throws OrtException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", onnx.toString());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        m.put("onnxruntime_version", env.getVersion());
        long rss0 = ProcMemory.rssBytes();
        long t0 = System.nanoTime();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            if (ortProfile != null) {
                opts.enableProfiling(ortProfile.toString());
            }
            try (OrtSession session = env.createSession(onnx.toString(), opts)) {
                m.put("session_s", secs(t0));
                m.put("session_rss_increase_bytes", ProcMemory.rssBytes() - rss0);
                m.put("inputs", session.getInputNames().toString());
                Map<String, OnnxTensor> in = new LinkedHashMap<>();
                in.put("sample", OnnxTensor.createTensor(env, FloatBuffer.wrap(r.asFloats("unet_in_sample")),
                        r.shape("unet_in_sample")));
                in.put("timestep", OnnxTensor.createTensor(env, FloatBuffer.wrap(r.asFloats("unet_in_timestep")),
                        r.shape("unet_in_timestep")));
                in.put("encoder_hidden_states", OnnxTensor.createTensor(env,
                        FloatBuffer.wrap(r.asFloats("unet_in_encoder_hidden_states")),
                        r.shape("unet_in_encoder_hidden_states")));
                Supplier<float[]> ort = () -> {
                    try (OrtSession.Result res = session.run(in)) {
                        FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
                        float[] a = new float[fb.remaining()];
                        fb.get(a);
                        return a;
                    } catch (OrtException e) {
                        throw new IllegalStateException(e);
                    }
                };
                float[] ortOut = null;
                for (int i = 0; i < warmup; i++) {
                    long tw = System.nanoTime();
                    ortOut = ort.get();
                    System.out.printf("ONNX Runtime warm-up %.1f s%n", secs(tw));
                }
                m.put("rss_after_warmup_bytes", ProcMemory.rssBytes());
                List<Double> j = new ArrayList<>(), o = new ArrayList<>(), jc = new ArrayList<>();
                List<Double> oc = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    long a = System.nanoTime(), ac = cpuNanos();
                    java.get();
                    j.add(secs(a));
                    jc.add((cpuNanos() - ac) / 1e9);
                    long b = System.nanoTime(), bc = cpuNanos();
                    ortOut = ort.get();
                    o.add(secs(b));
                    oc.add((cpuNanos() - bc) / 1e9);
                    System.out.printf("run %d: Java %.2f s (cpu %.1f s), ONNX Runtime %.2f s (cpu %.1f s)%n", i,
                            j.get(i), jc.get(i), o.get(i), oc.get(i));
                }
                m.put("java_cpu_s", jc);
                m.put("onnxruntime_cpu_s", oc);
                m.put("vs_diffusers", Diff.of(ortOut, want).json());
                m.put("vs_java", Diff.of(ortOut, javaOut).json());
                m.putAll(compare("onnxruntime", j, o));
                javaTimes.put("onnxruntime", j);
                if (ortProfile != null) {
                    String file = session.endProfiling();
                    m.put("profile_file", file);
                    m.put("profile_ms_per_run_by_block", ortBlocks(Path.of(file), warmup + runs));
                }
                for (OnnxTensor x : in.values()) {
                    x.close();
                }
            }
        }
        return m;
    }

    /** Sums ONNX Runtime's per-node kernel times by the UNet block in the node name, per run. */
    static Map<String, Object> ortBlocks(Path profile, int calls) {
        Map<String, Double> byBlock = new LinkedHashMap<>();
        Map<String, Double> byOp = new TreeMap<>();
        try {
            JsonArray events = JsonParser.parseString(Files.readString(profile)).getAsJsonArray();
            for (JsonElement e : events) {
                JsonObject o = e.getAsJsonObject();
                if (!"Node".equals(o.has("cat") ? o.get("cat").getAsString() : "")) {
                    continue;
                }
                String name = o.get("name").getAsString();
                if (!name.endsWith("_kernel_time")) {
                    continue;
                }
                double ms = o.get("dur").getAsDouble() / 1000.0 / calls;
                byBlock.merge(block(name), ms, Double::sum);
                JsonObject args = o.getAsJsonObject("args");
                String op = args != null && args.has("op_name") ? args.get("op_name").getAsString() : "?";
                byOp.merge(op, ms, Double::sum);
            }
        } catch (IOException | RuntimeException ex) {
            return Map.of("error", ex.toString());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("by_block", byBlock);
        m.put("by_op", byOp);
        return m;
    }

    private static String block(String node) {
        java.util.regex.Matcher mt = java.util.regex.Pattern.compile("(down_blocks|up_blocks)\\.(\\d+)").matcher(node);
        if (mt.find()) {
            return (mt.group(1).startsWith("down") ? "down_block" : "up_block") + mt.group(2);
        }
        for (String k : new String[] {"mid_block", "conv_in", "conv_norm_out", "conv_out", "time_embedding",
                "time_proj"}) {
            if (node.contains(k)) {
                return k.equals("time_proj") ? "time_embedding" : k;
            }
        }
        return "other";
    }

    private Map<String, Object> compare(String other, List<Double> java, List<Double> them) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("java_s", java);
        m.put(other + "_s", them);
        double jm = median(java), om = median(them);
        m.put("java_median_s", jm);
        m.put("java_min_s", java.stream().mapToDouble(x -> x).min().orElse(Double.NaN));
        m.put(other + "_median_s", om);
        m.put(other + "_min_s", them.stream().mapToDouble(x -> x).min().orElse(Double.NaN));
        m.put("ratio_java_over_" + other + "_median", jm / om);
        // Per-pair ratios: each pair ran back to back, so the machine's load is as alike as it gets.
        List<Double> pairs = new ArrayList<>();
        for (int i = 0; i < java.size(); i++) {
            pairs.add(java.get(i) / them.get(i));
        }
        m.put("ratio_java_over_" + other + "_per_pair", pairs);
        m.put("ratio_java_over_" + other + "_median_of_pairs", median(pairs));
        m.put("load_average_after", loadAverage());
        System.out.printf("Java / %s: median %.3f (Java %.2f s, %s %.2f s)%n", other, jm / om, jm, other, om);
        return m;
    }

    // ------------------------------------------------------------------ one image through the public API

    private void image() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        report.put("image", m);
        Path png = image != null ? image : out.resolveSibling(out.getFileName().toString()
                .replaceFirst("\\.json$", "") + ".png");
        ProcMemory.resetPeak();
        long rss0 = ProcMemory.rssBytes();
        long t0 = System.nanoTime();
        LoadOptions.Builder b = LoadOptions.builder().device(Device.cpu()).warmUp(false);
        if (variant != null) {
            b.variant(variant);
        }
        try (InstaFlow model = InstaFlow.load(snapshot, b.build())) {
            m.put("load_s", secs(t0));
            m.put("load_rss_increase_bytes", ProcMemory.rssBytes() - rss0);
            m.put("load_peak_increase_bytes", ProcMemory.hwmBytes() - rss0);
            m.put("model", model.info().toString());
            GenerationRequest req = GenerationRequest.builder().prompt(prompt).seed(seed).size(512, 512).steps(1)
                    .build();
            Generation g;
            long t1 = System.nanoTime();
            try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
                g = model.generate(req);
            }
            m.put("generate_s", secs(t1));
            ImageIO.write(g.image(), "png", png.toFile());
            m.put("png", png.toString());
            m.put("prompt", prompt);
            m.put("seed", seed);
            m.put("size", g.settings().width() + "x" + g.settings().height());
            m.put("steps", g.settings().steps());
            m.put("guidance", g.settings().guidance());
            m.put("sampler", String.valueOf(g.settings().sampler()));
            m.put("timings_ms", g.timings().toMillis());
            m.put("peak_bytes", ProcMemory.hwmBytes());
            m.put("load_average_after", loadAverage());
            System.out.println("image " + png + ": " + g.timings());
        }
    }

    // ------------------------------------------------------------------ helpers

    private Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpus", Runtime.getRuntime().availableProcessors());
        m.put("cpu_model", cpuModel());
        m.put("java", System.getProperty("java.version"));
        m.put("torch_threads", torch.get_num_threads());
        m.put("load_average_start", loadAverage());
        m.put("jvm", ManagementFactory.getRuntimeMXBean().getVmName());
        return m;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    /** CPU time of the whole process (all threads), user + system. */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static double secs(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(x -> x).sorted().toArray();
        if (a.length == 0) {
            return Double.NaN;
        }
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private void save() throws IOException {
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, gson.toJson(report));
    }
}
