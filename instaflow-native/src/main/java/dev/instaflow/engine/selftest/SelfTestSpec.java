package dev.instaflow.engine.selftest;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.InvalidBundleException;
import dev.instaflow.LatentNoise;
import dev.instaflow.Sampler;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A bundle's stored self-test ({@code selftest/selftest.json}, {@code docs/bundle-format.md}): a prompt and
 * settings, the exact input noise, and the image the exporter's reference pipeline produced from them.
 *
 * @param folder         the {@code selftest/} folder
 * @param prompt         the prompt
 * @param negativePrompt the negative prompt (used only with guidance above 1)
 * @param sampler        the sampler
 * @param steps          sampler steps
 * @param guidance       guidance scale
 * @param width          image width
 * @param height         image height
 * @param noise          the initial latent noise
 * @param expectedRgb    the reference image, {@code [height, width, 3]} RGB bytes
 * @param maxAbsUint8    largest per-channel difference allowed
 * @param minPsnr        smallest PSNR (dB) allowed
 * @param reference      where the expected image came from (free-form, for the report)
 */
public record SelfTestSpec(Path folder, String prompt, String negativePrompt, Sampler sampler, int steps,
                           double guidance, int width, int height, LatentNoise noise, byte[] expectedRgb,
                           int maxAbsUint8, double minPsnr, String reference) {
    public static final String FOLDER = "selftest";
    public static final String FILE = "selftest.json";
    public static final String FORMAT = "instaflow-selftest";

    /** Reads {@code bundle/selftest/selftest.json} and its data files. */
    public static SelfTestSpec read(Path bundle) {
        Path folder = bundle.resolve(FOLDER);
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidBundleException(file, null, "this bundle has no self-test (the exporter writes one;"
                    + " bundles made with `instaflow bundle` have none)");
        }
        JsonObject o;
        try {
            o = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new InvalidBundleException(file, null, "is not a readable JSON object: " + e.getMessage(), e);
        }
        if (!FORMAT.equals(string(o, file, "format"))) {
            throw new InvalidBundleException(file, "format", "expected \"" + FORMAT + "\"");
        }
        int[] noiseShape = ints(o, file, "noise_shape", 4);
        int width = integer(o, file, "width");
        int height = integer(o, file, "height");
        float[] noise = floats(folder, file, string(o, file, "noise"),
                (long) noiseShape[0] * noiseShape[1] * noiseShape[2] * noiseShape[3]);
        byte[] expected = bytes(folder, file, string(o, file, "expected_image"), (long) width * height * 3);
        JsonObject tolerance = o.has("tolerance") ? o.getAsJsonObject("tolerance") : new JsonObject();
        return new SelfTestSpec(folder, string(o, file, "prompt"),
                o.has("negative_prompt") ? o.get("negative_prompt").getAsString() : "",
                Sampler.parse(o.has("sampler") ? o.get("sampler").getAsString() : "euler"),
                integer(o, file, "steps"), number(o, file, "guidance"), width, height,
                LatentNoise.of(noise, noiseShape[0], noiseShape[1], noiseShape[2], noiseShape[3]), expected,
                tolerance.has("max_abs_uint8") ? tolerance.get("max_abs_uint8").getAsInt() : 2,
                tolerance.has("min_psnr_db") ? tolerance.get("min_psnr_db").getAsDouble() : 35.0,
                o.has("reference") ? o.get("reference").toString() : "{}");
    }

    private static String string(JsonObject o, Path file, String key) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive()) {
            throw new InvalidBundleException(file, key, "is missing; expected a string");
        }
        return e.getAsString();
    }

    private static int integer(JsonObject o, Path file, String key) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new InvalidBundleException(file, key, "is missing; expected an integer");
        }
        return e.getAsInt();
    }

    private static double number(JsonObject o, Path file, String key) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new InvalidBundleException(file, key, "is missing; expected a number");
        }
        return e.getAsDouble();
    }

    private static int[] ints(JsonObject o, Path file, String key, int length) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonArray() || e.getAsJsonArray().size() != length) {
            throw new InvalidBundleException(file, key, "expected an array of " + length + " integers");
        }
        JsonArray a = e.getAsJsonArray();
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    private static float[] floats(Path folder, Path spec, String name, long count) {
        ByteBuffer b = ByteBuffer.wrap(data(folder, spec, name, count * 4)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) count];
        b.asFloatBuffer().get(out);
        return out;
    }

    private static byte[] bytes(Path folder, Path spec, String name, long count) {
        return data(folder, spec, name, count);
    }

    private static byte[] data(Path folder, Path spec, String name, long expectedBytes) {
        Path f = folder.resolve(name).normalize();
        if (!f.startsWith(folder)) {
            throw new InvalidBundleException(spec, null, "data file \"" + name + "\" leaves the selftest folder");
        }
        try {
            byte[] d = Files.readAllBytes(f);
            if (d.length != expectedBytes) {
                throw new InvalidBundleException(f, null, "has " + d.length + " bytes; expected " + expectedBytes);
            }
            return d;
        } catch (IOException e) {
            throw new InvalidBundleException(f, null, "cannot be read: " + e, e);
        }
    }
}
