package dev.instaflow.engine.snapshot;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.nn.StateDict;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A {@code .safetensors} file: an 8-byte little-endian header length, a JSON header mapping each tensor name to its
 * dtype, shape and byte range, then the raw little-endian data. Every tensor is read straight from the file into the
 * memory of a freshly allocated CPU tensor (no Java copy of the data, no second copy of the file), then, one tensor at
 * a time, cast to the model's dtype and moved to its device; so loading holds at most the weights plus one tensor.
 * The header is checked completely before any data is read: dtypes, shapes, byte ranges inside the file, no overlaps.
 */
@EntryPoint("a safetensors header: the CLI's inspect (tensor listing)")
public final class SafetensorsFile {
    /** Headers larger than this are refused: real ones are well under 1 MiB (a few hundred bytes per tensor). */
    static final long MAX_HEADER_BYTES = 64L << 20;
    /** The largest chunk handed to one {@link FileChannel#read} (a {@link ByteBuffer} holds at most 2 GiB). */
    private static final int CHUNK = 1 << 30;

    /** One tensor's header entry. */
    public record Entry(String name, ScalarType dtype, String dtypeName, long[] shape, long begin, long end) {
    }

    private final Path file;
    private final long dataStart;
    private final List<Entry> entries;

    private SafetensorsFile(Path file, long dataStart, List<Entry> entries) {
        this.file = file;
        this.dataStart = dataStart;
        this.entries = entries;
    }

    /** Reads and checks the header of {@code file}. */
    public static SafetensorsFile open(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new InvalidModelException(file, null, "is not a safetensors file: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0, file);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new InvalidModelException(file, null, "is not a safetensors file (or is truncated): its header"
                        + " length field says " + Long.toUnsignedString(headerLength) + " bytes, the file has "
                        + size + " bytes and headers are at most " + MAX_HEADER_BYTES);
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8, file);
            List<Entry> entries = parseHeader(file, new String(header.array(), StandardCharsets.UTF_8),
                    size - 8 - headerLength);
            return new SafetensorsFile(file, 8 + headerLength, entries);
        } catch (IOException e) {
            throw new InvalidModelException(file, null, "cannot be read: " + e, e);
        }
    }

    private static List<Entry> parseHeader(Path file, String json, long dataBytes) {
        JsonElement root;
        try {
            root = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new InvalidModelException(file, null, "has a header that is not valid JSON (not a safetensors"
                    + " file, or damaged)", e);
        }
        if (!root.isJsonObject()) {
            throw new InvalidModelException(file, null, "has a header that is not a JSON object");
        }
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : root.getAsJsonObject().entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            entries.add(parseEntry(file, e.getKey(), e.getValue(), dataBytes));
        }
        entries.sort(Comparator.comparingLong(Entry::begin));
        long previousEnd = 0;
        String previous = null;
        for (Entry e : entries) {
            if (e.begin() < previousEnd) {
                throw new InvalidModelException(file, e.name(), "overlaps the bytes of " + previous
                        + " (a damaged header)");
            }
            previousEnd = e.end();
            previous = e.name();
        }
        return entries;
    }

    private static Entry parseEntry(Path file, String name, JsonElement value, long dataBytes) {
        if (!value.isJsonObject()) {
            throw new InvalidModelException(file, name, "header entry is not an object");
        }
        JsonObject o = value.getAsJsonObject();
        String dtypeName = stringField(file, name, o, "dtype");
        ScalarType dtype = scalarType(file, name, dtypeName);
        long[] shape = longs(file, name, o, "shape", false);
        long[] offsets = longs(file, name, o, "data_offsets", true);
        if (offsets.length != 2 || offsets[0] > offsets[1] || offsets[1] > dataBytes) {
            throw new InvalidModelException(file, name, "data_offsets " + java.util.Arrays.toString(offsets)
                    + " do not lie within the file's " + dataBytes + " data bytes (truncated file?)");
        }
        long numel = 1;
        for (long d : shape) {
            numel = Math.multiplyExact(numel, d);
        }
        long expected = Math.multiplyExact(numel, itemSize(dtype));
        if (offsets[1] - offsets[0] != expected) {
            throw new InvalidModelException(file, name, "holds " + (offsets[1] - offsets[0]) + " bytes, but "
                    + dtypeName + " " + java.util.Arrays.toString(shape) + " needs " + expected);
        }
        return new Entry(name, dtype, dtypeName, shape, offsets[0], offsets[1]);
    }

    private static String stringField(Path file, String name, JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new InvalidModelException(file, name, "header entry has no string \"" + key + "\"");
        }
        return e.getAsString();
    }

    private static long[] longs(Path file, String name, JsonObject o, String key, boolean allowLarge) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonArray()) {
            throw new InvalidModelException(file, name, "header entry has no array \"" + key + "\"");
        }
        long[] out = new long[e.getAsJsonArray().size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement item = e.getAsJsonArray().get(i);
            long v;
            try {
                v = item.getAsBigDecimal().longValueExact();
            } catch (RuntimeException notAnInteger) {
                throw new InvalidModelException(file, name, "header entry \"" + key + "\" holds " + item
                        + ", expected non-negative integers");
            }
            if (v < 0 || (!allowLarge && v > Integer.MAX_VALUE)) {
                throw new InvalidModelException(file, name, "header entry \"" + key + "\" holds " + v
                        + ", out of range");
            }
            out[i] = v;
        }
        return out;
    }

    private static ScalarType scalarType(Path file, String name, String dtype) {
        return switch (dtype) {
            case "F32" -> ScalarType.Float;
            case "F16" -> ScalarType.Half;
            case "BF16" -> ScalarType.BFloat16;
            case "F64" -> ScalarType.Double;
            case "I64" -> ScalarType.Long;
            case "I32" -> ScalarType.Int;
            case "I16" -> ScalarType.Short;
            case "I8" -> ScalarType.Char;
            case "U8" -> ScalarType.Byte;
            case "BOOL" -> ScalarType.Bool;
            default -> throw new InvalidModelException(file, name, "has dtype " + dtype + ", which is not"
                    + " supported; supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL");
        };
    }

    private static long itemSize(ScalarType t) {
        return switch (t) {
            case Double, Long -> 8;
            case Float, Int -> 4;
            case Half, BFloat16, Short -> 2;
            default -> 1;
        };
    }

    public Path file() {
        return file;
    }

    /** The header entries, in file order. */
    public List<Entry> entries() {
        return entries;
    }

    /**
     * Reads every tensor into {@code into}, each through {@code prepare} (cast and move to the model's device and
     * dtype) before the next one is read.
     */
    public void readInto(StateDict into, UnaryOperator<Tensor> prepare) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (Entry e : entries) {
                // One scope per tensor: the host copy is freed as soon as its cast or device copy exists (put()
                // retains what it keeps), so loading never holds more than the weights plus one tensor.
                try (PointerScope scope = new PointerScope()) {
                    Tensor host = torch.empty(e.shape(), new TensorOptions(e.dtype()),
                            new org.bytedeco.pytorch.MemoryFormatOptional());
                    long bytes = e.end() - e.begin();
                    if (bytes > 0) {
                        BytePointer memory = new BytePointer(host.data_ptr()).capacity(bytes);
                        for (long done = 0; done < bytes; done += CHUNK) {
                            long length = Math.min(CHUNK, bytes - done);
                            ByteBuffer target = memory.position(done).limit(done + length).asByteBuffer();
                            readFully(channel, target, dataStart + e.begin() + done, file);
                        }
                    }
                    into.put(e.name(), prepare.apply(host), file);
                }
            }
        } catch (IOException ex) {
            throw new InvalidModelException(file, null, "cannot be read: " + ex, ex);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer target, long position, Path file)
            throws IOException {
        long at = position;
        while (target.hasRemaining()) {
            int n = channel.read(target, at);
            if (n < 0) {
                throw new InvalidModelException(file, null, "ends early (truncated): needed bytes up to "
                        + (at + target.remaining()));
            }
            at += n;
        }
    }
}
