import dev.instaflow.Device;
import dev.instaflow.Generation;
import dev.instaflow.GenerationSettings;
import dev.instaflow.InstaFlow;
import dev.instaflow.InstaFlowException;
import dev.instaflow.LatentNoise;
import dev.instaflow.LoadOptions;
import dev.instaflow.Precision;
import dev.instaflow.Sampler;
import dev.instaflow.engine.TorchModel;
import dev.instaflow.spi.Engine;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.tooling.selftest.SelfTest;
import dev.instaflow.tooling.selftest.SelfTestReport;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The exporter's Java-side check: loads an exported bundle with the SDK (engine classes, so intermediate tensors can
 * be dumped) and either generates and dumps tensors for {@code scripts/compare.py}, runs the bundle's stored
 * self-test, or shows the error a load gives. A test tool of the exporter, run as a single source file:
 *
 * <pre>
 * java -cp CLASSPATH exporter/tests/java/BundleCheck.java generate --bundle B --out DIR --prompt P --steps N
 *      --guidance G (--seed S | --noise FILE --noise-shape 1,4,h,w) --size WxH [--negative N] [--device cpu|cuda]
 * java -cp CLASSPATH exporter/tests/java/BundleCheck.java selftest --bundle B [--device cpu|cuda]
 * java -cp CLASSPATH exporter/tests/java/BundleCheck.java load-error --bundle B [--device ...] [--precision ...]
 * </pre>
 * Exit status: 0 success (for load-error: the load failed with an SDK exception, as expected), 3 self-test failed
 * or the bundle loaded although an error was expected, 2 bad arguments.
 */
public final class BundleCheck {
    /** Tensors written by {@code generate}, as raw little-endian float32 or uint8 with a shape in summary.json. */
    private static final Set<String> DUMPED = Set.of("prompt_embeds", "negative_prompt_embeds", "initial_noise",
            "unet_out_step0", "unet_out_call0", "final_latents", "image_float", "image_uint8");

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            usage("missing command");
        }
        Map<String, String> o = options(args);
        switch (args[0]) {
            case "generate":
                generate(o);
                break;
            case "selftest":
                selftest(o);
                break;
            case "load-error":
                loadError(o);
                break;
            default:
                usage("unknown command " + args[0]);
        }
    }

    private static LoadOptions loadOptions(Map<String, String> o) {
        LoadOptions.Builder b = LoadOptions.builder().device(Device.parse(o.getOrDefault("device", "cpu")));
        if (o.containsKey("precision")) {
            b.precision(Precision.parse(o.get("precision")));
        }
        if (!o.getOrDefault("device", "cpu").startsWith("cuda")) { // threads are a process-wide setting
            InstaFlow.configure(InstaFlow.runtimeSettings().withThreads(Integer.parseInt(o.getOrDefault("threads", "1"))));
        }
        return b.build();
    }

    private static void generate(Map<String, String> o) throws IOException {
        Path out = Files.createDirectories(Path.of(required(o, "out")));
        String[] size = required(o, "size").split("x");
        int width = Integer.parseInt(size[0]);
        int height = Integer.parseInt(size[1]);
        double guidance = Double.parseDouble(required(o, "guidance"));
        Optional<LatentNoise> noise = Optional.empty();
        long seed = Long.parseLong(o.getOrDefault("seed", "0"));
        if (o.containsKey("noise")) {
            String[] s = required(o, "noise-shape").split(",");
            byte[] raw = Files.readAllBytes(Path.of(o.get("noise")));
            float[] values = new float[raw.length / 4];
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            noise = Optional.of(LatentNoise.of(values, Integer.parseInt(s[0]), Integer.parseInt(s[1]),
                    Integer.parseInt(s[2]), Integer.parseInt(s[3])));
        } else if (!o.containsKey("seed")) {
            usage("generate needs --seed or --noise");
        }
        Map<String, long[]> shapes = new HashMap<>();
        PipelineTrace trace = new PipelineTrace() {
            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public void record(String name, Tensor value) {
                if (!DUMPED.contains(name)) {
                    return;
                }
                try {
                    Tensor host = value.to(new org.bytedeco.pytorch.Device(org.bytedeco.pytorch.global.torch.DeviceType.CPU),
                            value.scalar_type()).contiguous();
                    byte[] bytes;
                    // scalar_type() returns a fresh enum object from native code: intern() before comparing.
                    if (host.scalar_type().intern() == ScalarType.Byte) {
                        bytes = new byte[(int) host.numel()];
                        Tensors.copyBytes(host, bytes);
                    } else {
                        float[] f = Tensors.toFloats(host.to(ScalarType.Float));
                        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                        b.asFloatBuffer().put(f);
                        bytes = b.array();
                    }
                    Files.write(out.resolve(name + ".bin"), bytes);
                    shapes.put(name, Tensors.shape(host));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        boolean guided = guidance > 1;
        GenerationSettings plan = new GenerationSettings(List.of(required(o, "prompt")),
                guided ? o.getOrDefault("negative", "") : "", guided, guidance,
                noise.isPresent() ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(seed), noise, width,
                height, 1, Sampler.euler(), Integer.parseInt(required(o, "steps")), Optional.empty());
        long start = System.nanoTime();
        TorchModel model = TorchModel.load(Path.of(required(o, "bundle")), loadOptions(o));
        try { // TorchModel is not AutoCloseable
            long loaded = System.nanoTime();
            Generation g = model.generate(List.of(plan), Engine.Monitor.NONE, trace).get(0);
            StringBuilder json = new StringBuilder("{\n  \"device\": \"" + model.info().device() + "\",\n  \"precision\": \""
                    + model.info().precision() + "\",\n  \"load_ms\": " + (loaded - start) / 1_000_000
                    + ",\n  \"generate_ms\": " + g.timings().total().toMillis()
                    + ",\n  \"denoiser_evaluations\": " + g.denoiserEvaluations() + ",\n  \"tensors\": {");
            List<String> entries = new ArrayList<>();
            shapes.forEach((k, v) -> entries.add("\n    \"" + k + "\": " + java.util.Arrays.toString(v)));
            json.append(String.join(",", entries)).append("\n  }\n}\n");
            Files.writeString(out.resolve("summary.json"), json.toString());
            System.out.println("generated " + width + "x" + height + " on " + model.info().device() + "/"
                    + model.info().precision() + " in " + g.timings().total().toMillis()
                    + " ms; tensors in " + out);
        } finally {
            model.close();
        }
    }

    private static void selftest(Map<String, String> o) {
        SelfTestReport report = SelfTest.run(Path.of(required(o, "bundle")), loadOptions(o));
        System.out.println(report);
        System.exit(report.passed() ? 0 : 3);
    }

    private static void loadError(Map<String, String> o) {
        try {
            TorchModel model = TorchModel.load(Path.of(required(o, "bundle")), loadOptions(o));
            System.out.println("LOADED (no error) on " + model.info().device() + "/" + model.info().precision());
            model.close();
            System.exit(3);
        } catch (InstaFlowException e) {
            System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                usage("expected --name value pairs, got " + args[i]);
            }
            o.put(args[i].substring(2).toLowerCase(Locale.ROOT), args[++i]);
        }
        return o;
    }

    private static String required(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) {
            usage("missing --" + key);
        }
        return v;
    }

    private static void usage(String problem) {
        System.err.println("BundleCheck: " + problem + "\n  commands: generate | selftest | load-error (see the class comment)");
        System.exit(2);
    }
}
