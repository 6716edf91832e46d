package dev.instaflow.engine.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** One reference run of {@code tiny-sd15/ref/<case>}: its parameters and its tensors (raw little-endian files). */
public final class ReferenceCase {
    private final Path folder;
    private final JsonObject manifest;

    private ReferenceCase(Path folder, JsonObject manifest) {
        this.folder = folder;
        this.manifest = manifest;
    }

    public static ReferenceCase load(String name) {
        return at(SharedFixtures.referenceCase(name));
    }

    /**
     * The case (or its {@code debug/} folder of forward-hook tensors) in {@code folder}: any folder with a
     * {@code manifest.json} in the tiny-sd15 case format, e.g. {@code SharedFixtures.tinySd21Case("rf_n2_cfg1.5")}.
     */
    public static ReferenceCase at(Path folder) {
        try {
            return new ReferenceCase(folder, JsonParser.parseString(Files.readString(folder.resolve("manifest.json")))
                    .getAsJsonObject());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path folder() {
        return folder;
    }

    public JsonObject parameters() {
        return manifest;
    }

    public String prompt() {
        return manifest.get("prompt").getAsString();
    }

    public long seed() {
        return manifest.get("seed").getAsLong();
    }

    public int steps() {
        return manifest.get("num_inference_steps").getAsInt();
    }

    public double guidance() {
        return manifest.get("guidance_scale").getAsDouble();
    }

    public int width() {
        return manifest.get("width").getAsInt();
    }

    public int height() {
        return manifest.get("height").getAsInt();
    }

    public boolean has(String tensor) {
        return manifest.getAsJsonObject("tensors").has(tensor);
    }

    public java.util.Set<String> tensorNames() {
        return manifest.getAsJsonObject("tensors").keySet();
    }

    public long[] shape(String tensor) {
        JsonArray a = entry(tensor).getAsJsonArray("shape");
        long[] s = new long[a.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = a.get(i).getAsLong();
        }
        return s;
    }

    public String dtype(String tensor) {
        return entry(tensor).get("dtype").getAsString();
    }

    public float[] floats(String tensor) {
        ByteBuffer b = raw(tensor);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    public long[] longs(String tensor) {
        ByteBuffer b = raw(tensor);
        long[] out = new long[b.remaining() / 8];
        b.asLongBuffer().get(out);
        return out;
    }

    public byte[] bytes(String tensor) {
        ByteBuffer b = raw(tensor);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private JsonObject entry(String tensor) {
        JsonObject e = manifest.getAsJsonObject("tensors").getAsJsonObject(tensor);
        if (e == null) {
            throw new IllegalArgumentException("reference case " + folder.getFileName() + " has no tensor " + tensor);
        }
        return e;
    }

    private ByteBuffer raw(String tensor) {
        try {
            return ByteBuffer.wrap(Files.readAllBytes(folder.resolve(entry(tensor).get("file_raw").getAsString())))
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
