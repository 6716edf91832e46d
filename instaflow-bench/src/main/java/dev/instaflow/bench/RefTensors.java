package dev.instaflow.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A reference folder as scripts/fullsize/reference_outputs.py writes it: {@code NAME.bin} (raw little-endian, C
 * order) described by {@code manifest.json}'s {@code tensors.NAME} ({@code dtype} "&lt;f4" or "&lt;i8", {@code shape}).
 */
final class RefTensors {
    private final Path dir;
    private final JsonObject tensors;
    private final JsonObject manifest;

    private RefTensors(Path dir, JsonObject manifest) {
        this.dir = dir;
        this.manifest = manifest;
        this.tensors = manifest.getAsJsonObject("tensors");
    }

    static RefTensors open(Path dir) {
        try {
            return new RefTensors(dir, JsonParser.parseString(Files.readString(dir.resolve("manifest.json")))
                    .getAsJsonObject());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonObject manifest() {
        return manifest;
    }

    boolean has(String name) {
        return tensors.has(name) && Files.isRegularFile(dir.resolve(tensors.getAsJsonObject(name)
                .get("file_raw").getAsString()));
    }

    long[] shape(String name) {
        JsonArray a = entry(name).getAsJsonArray("shape");
        long[] s = new long[a.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = a.get(i).getAsLong();
        }
        return s;
    }

    String dtype(String name) {
        return entry(name).get("dtype").getAsString();
    }

    private JsonObject entry(String name) {
        JsonObject e = tensors.getAsJsonObject(name);
        if (e == null) {
            throw new IllegalArgumentException(dir.resolve("manifest.json") + " has no tensor " + name);
        }
        return e;
    }

    private ByteBuffer bytes(String name) {
        try {
            return ByteBuffer.wrap(Files.readAllBytes(dir.resolve(entry(name).get("file_raw").getAsString())))
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    float[] floats(String name) {
        if (!dtype(name).equals("<f4")) {
            throw new IllegalArgumentException(name + " is " + dtype(name) + ", not float32");
        }
        ByteBuffer b = bytes(name);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    long[] longs(String name) {
        if (!dtype(name).equals("<i8")) {
            throw new IllegalArgumentException(name + " is " + dtype(name) + ", not int64");
        }
        ByteBuffer b = bytes(name);
        long[] out = new long[b.remaining() / 8];
        b.asLongBuffer().get(out);
        return out;
    }

    /** The tensor as float32 (int64 values converted), for network inputs such as the timestep. */
    float[] asFloats(String name) {
        if (dtype(name).equals("<i8")) {
            long[] l = longs(name);
            float[] f = new float[l.length];
            for (int i = 0; i < l.length; i++) {
                f[i] = l[i];
            }
            return f;
        }
        return floats(name);
    }

    Tensor floatTensor(String name) {
        return Tensors.fromFloats(asFloats(name), shape(name));
    }

    Tensor longTensor(String name) {
        return Tensors.fromLongs(longs(name), shape(name));
    }
}
