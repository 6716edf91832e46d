import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs an exported UNet (export_onnx.py) with ONNX Runtime's Java API on the stored PyTorch inputs and compares
 * with the stored PyTorch output.
 *
 *   java -cp onnxruntime-1.17.3.jar scripts/fullsize/OrtCheck.java MODEL.onnx REF_DIR [threads]
 *
 * REF_DIR holds unet_in_sample.bin, unet_in_timestep.bin, unet_in_encoder_hidden_states.bin, unet_out.bin and a
 * manifest.json giving their shapes (raw little-endian float32). Prints max |diff|, max |ref| and the run time.
 */
public final class OrtCheck {
    private static long[] shape(String manifest, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\\{[^}]*?\"shape\"\\s*:\\s*\\[([^\\]]*)\\]",
                Pattern.DOTALL).matcher(manifest);
        if (!m.find()) throw new IllegalArgumentException("no shape for " + name);
        String[] parts = m.group(1).trim().split("\\s*,\\s*");
        long[] s = new long[parts.length];
        for (int i = 0; i < parts.length; i++) s[i] = Long.parseLong(parts[i]);
        return s;
    }

    private static FloatBuffer floats(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        return b.asFloatBuffer();
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        Path ref = Path.of(args[1]);
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        String manifest = Files.readString(ref.resolve("manifest.json"));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(threads);
        opts.setInterOpNumThreads(1);
        long t0 = System.nanoTime();
        try (OrtSession s = env.createSession(model.toString(), opts)) {
            long t1 = System.nanoTime();
            String[] names = {"sample", "timestep", "encoder_hidden_states"};
            String[] files = {"unet_in_sample", "unet_in_timestep", "unet_in_encoder_hidden_states"};
            Map<String, OnnxTensor> in = new java.util.LinkedHashMap<>();
            for (int i = 0; i < 3; i++) {
                in.put(names[i], OnnxTensor.createTensor(env, floats(ref.resolve(files[i] + ".bin")),
                        shape(manifest, files[i])));
            }
            try (OrtSession.Result r = s.run(in)) {
                long t2 = System.nanoTime();
                float[] out = ((OnnxTensor) r.get(0)).getFloatBuffer().array();
                FloatBuffer want = floats(ref.resolve("unet_out.bin"));
                double maxDiff = 0, maxRef = 0, sumSq = 0;
                if (want.remaining() != out.length) throw new IllegalStateException(
                        "size " + out.length + " vs " + want.remaining());
                for (int i = 0; i < out.length; i++) {
                    double d = Math.abs(out[i] - want.get(i));
                    maxDiff = Math.max(maxDiff, d);
                    maxRef = Math.max(maxRef, Math.abs(want.get(i)));
                    sumSq += d * d;
                }
                System.out.printf("{\"model\": \"%s\", \"elements\": %d, \"max_abs_diff\": %.6g, \"rms_diff\": %.6g, "
                                + "\"max_abs_ref\": %.6g, \"session_s\": %.2f, \"run_s\": %.2f, \"threads\": %d, "
                                + "\"onnxruntime\": \"%s\"}%n",
                        model, out.length, maxDiff, Math.sqrt(sumSq / out.length), maxRef, (t1 - t0) / 1e9,
                        (t2 - t1) / 1e9, threads, env.getVersion());
            }
            for (OnnxTensor t : in.values()) t.close();
        }
    }
}
