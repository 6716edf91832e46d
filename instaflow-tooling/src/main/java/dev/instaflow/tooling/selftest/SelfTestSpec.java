package dev.instaflow.tooling.selftest;

import dev.instaflow.InvalidModelException;
import dev.instaflow.LatentNoise;
import dev.instaflow.Sampler;
import dev.instaflow.engine.bundle.BundleFiles;
import dev.instaflow.engine.bundle.JsonFields;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

    /** The self-test format version this SDK reads. */
    public static final int VERSION = 1;

    /** Reads {@code bundle/selftest/selftest.json} and its data files. */
    public static SelfTestSpec read(Path bundle) {
        Path folder;
        try {
            folder = bundle.toRealPath().resolve(FOLDER);
        } catch (IOException e) {
            throw new InvalidModelException(bundle, null, "bundle directory does not exist or cannot be read", e);
        }
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidModelException(file, null, "this bundle has no self-test (the exporter writes one;"
                    + " bundles made with `instaflow bundle` have none)");
        }
        JsonFields o = JsonFields.read(file);
        String format = o.string("format");
        if (!format.equals(FORMAT)) {
            throw o.error("format", "expected \"" + FORMAT + "\", got \"" + format + "\"");
        }
        int version = o.integer("version", 1, Integer.MAX_VALUE);
        if (version > VERSION) {
            throw o.error("version", "the self-test was written in version " + version + "; this SDK reads version "
                    + VERSION + ": upgrade instaflow-java");
        }
        int[] noiseShape = o.integers("noise_shape", 4, 1, 1 << 16);
        int width = o.integer("width", 1, 1 << 16);
        int height = o.integer("height", 1, 1 << 16);
        Sampler sampler;
        try {
            sampler = Sampler.parse(o.string("sampler", "euler"));
        } catch (IllegalArgumentException e) {
            throw o.error("sampler", e.getMessage());
        }
        long noiseValues = (long) noiseShape[0] * noiseShape[1] * noiseShape[2] * noiseShape[3];
        float[] noise = floats(folder, file, o.string("noise"), noiseValues);
        byte[] expected = data(folder, file, o.string("expected_image"), (long) width * height * 3);
        int maxAbs = 2;
        double minPsnr = 35.0;
        if (o.has("tolerance")) {
            JsonFields tolerance = o.object("tolerance");
            maxAbs = tolerance.integer("max_abs_uint8", 0, 255, 2);
            minPsnr = tolerance.has("min_psnr_db") ? tolerance.number("min_psnr_db") : 35.0;
        }
        LatentNoise latentNoise;
        try {
            latentNoise = LatentNoise.of(noise, noiseShape[0], noiseShape[1], noiseShape[2], noiseShape[3]);
        } catch (IllegalArgumentException e) {
            throw o.error("noise", e.getMessage());
        }
        return new SelfTestSpec(folder, o.string("prompt"), o.string("negative_prompt", ""), sampler,
                o.integer("steps", 1, 100_000), o.number("guidance"), width, height, latentNoise, expected, maxAbs,
                minPsnr, o.has("reference") ? o.raw().get("reference").toString() : "{}");
    }

    private static float[] floats(Path folder, Path spec, String name, long count) {
        if (count > Integer.MAX_VALUE / 4) {
            throw new InvalidModelException(spec, "noise_shape", "has " + count + " values; too many for a self-test");
        }
        ByteBuffer b = ByteBuffer.wrap(data(folder, spec, name, count * 4)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) count];
        b.asFloatBuffer().get(out);
        return out;
    }

    private static byte[] data(Path folder, Path spec, String name, long expectedBytes) {
        Path f = folder.resolve(name).normalize();
        if (!f.startsWith(folder)) {
            throw new InvalidModelException(spec, null, "data file \"" + name + "\" leaves the selftest folder");
        }
        // A regular file inside the selftest folder (symbolic links resolved), read up to the size it must have.
        byte[] bytes = BundleFiles.readBytes(folder, f, null, expectedBytes);
        if (bytes.length != expectedBytes) {
            throw new InvalidModelException(f, null, "has " + bytes.length + " bytes; expected " + expectedBytes);
        }
        return bytes;
    }
}
