package dev.instaflow.engine.runtime;

import dev.instaflow.InvalidModelException;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NamedIValue;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TupleElements;
import org.bytedeco.pytorch.named_attribute_iterator;
import org.bytedeco.pytorch.named_attribute_list;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The checks LibTorch's TorchScript loader does not make, so that a damaged part file fails at load with its record
 * named instead of crashing the JVM or computing with garbage:
 *
 * <ol>
 * <li>{@link #checkArchive}: before LibTorch reads the file, every zip entry is read in full and its CRC-32 and
 * length compared with the zip directory's (LibTorch ignores both: a bit flip in a tensor record loads silently),
 * and every tensor record is compared with the size its {@code data.pkl} declares for it ({@link PickleStorages}):
 * LibTorch sizes a storage from the pickle and fills it from the record without comparing the two, so a short
 * record (a valid zip entry with a correct CRC) is read past its end, or aborts the process inside the first op
 * that touches it.
 * <li>{@link #checkTensors}: after the load and before any forward, every tensor the module holds (parameters,
 * buffers, other tensor attributes, and tensors inside tuple and list attributes, recursively) must fit in its
 * storage: {@code storage nbytes >= (storage_offset + 1 + sum((size_i - 1) * stride_i)) * itemsize} (a pickle
 * whose tensor sizes or offsets overrun the storage it declares).
 * </ol>
 *
 * <p>Cost: one sequential read of the file (CRC-32 runs at several GB/s) and a walk over the module's attributes.
 */
public final class ArchiveIntegrity {
    /** How deep tuples and lists inside attributes are searched for tensors. */
    private static final int MAX_NESTING = 8;
    /** A module's data.pkl lists its tensors, a few hundred bytes each; larger ones are not parsed. */
    private static final long MAX_PICKLE_BYTES = 64L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(ArchiveIntegrity.class);

    private ArchiveIntegrity() {
    }

    /**
     * Reads every entry of the zip archive {@code file} and compares its CRC-32 and length with the archive's
     * directory.
     *
     * @param field the manifest field that named the file, for messages
     * @throws InvalidModelException naming the file, the field and the damaged record
     */
    public static void checkArchive(Path file, String field) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidModelException(file, field, "is not a regular file; a part must be a TorchScript archive");
        }
        byte[] buffer = new byte[1 << 16];
        Map<String, Long> lengths = new HashMap<>();
        Map<String, byte[]> pickles = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry entry : Collections.list((Enumeration<ZipEntry>) zip.entries())) {
                if (entry.isDirectory()) {
                    continue;
                }
                CRC32 crc = new CRC32();
                long length = 0;
                boolean keep = entry.getName().endsWith("/data.pkl") && entry.getSize() <= MAX_PICKLE_BYTES;
                java.io.ByteArrayOutputStream kept = keep ? new java.io.ByteArrayOutputStream() : null;
                try (InputStream in = zip.getInputStream(entry)) {
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        crc.update(buffer, 0, n);
                        length += n;
                        if (keep && length <= MAX_PICKLE_BYTES) {
                            kept.write(buffer, 0, n);
                        }
                    }
                } catch (ZipException | java.io.EOFException e) {
                    throw damaged(file, field, entry, "cannot be read (" + e.getMessage() + ")", e);
                }
                if (entry.getSize() >= 0 && length != entry.getSize()) {
                    throw damaged(file, field, entry, "holds " + length + " bytes but the archive's directory says "
                            + entry.getSize(), null);
                }
                if (entry.getCrc() >= 0 && crc.getValue() != entry.getCrc()) {
                    throw damaged(file, field, entry, "fails its CRC-32 check (stored "
                            + String.format("%08x", entry.getCrc()) + ", computed "
                            + String.format("%08x", crc.getValue()) + ")", null);
                }
                lengths.put(entry.getName(), length);
                if (keep && length <= MAX_PICKLE_BYTES) {
                    pickles.put(entry.getName(), kept.toByteArray());
                }
            }
        } catch (ZipException e) {
            throw new InvalidModelException(file, field, "is not a loadable TorchScript archive (not a zip file, or"
                    + " truncated: " + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new InvalidModelException(file, field, "cannot be read: " + e, e);
        }
        pickles.forEach((name, pickle) -> checkRecordLengths(file, field, name, pickle, lengths));
    }

    /**
     * Each storage the pickle {@code name} declares must have its record {@code <prefix>/data/<key>} holding at least
     * {@code numel * itemsize} bytes. LibTorch sizes the storage from the pickle and fills it from the record without
     * comparing the two.
     */
    private static void checkRecordLengths(Path file, String field, String name, byte[] pickle,
                                           Map<String, Long> lengths) {
        String prefix = name.substring(0, name.length() - "data.pkl".length());
        Optional<List<PickleStorages.Storage>> storages = PickleStorages.read(pickle);
        if (storages.isEmpty()) {
            LOG.debug("{}: record {} is a pickle this check does not understand; only the loaded tensors are checked",
                    file, name);
            return;
        }
        for (PickleStorages.Storage s : storages.get()) {
            String record = prefix + "data/" + s.key();
            long itemSize = s.itemSize();
            if (s.numel() <= 0 || itemSize < 0) {
                continue;
            }
            Long length = lengths.get(record);
            if (length == null) {
                throw new InvalidModelException(file, field, "record '" + record + "' is missing: " + name
                        + " refers to it for a " + s.className() + " of " + s.numel() + " elements; the file is"
                        + " damaged (copy it again, or export the part again)");
            }
            long needed = s.numel() > Long.MAX_VALUE / itemSize ? Long.MAX_VALUE : s.numel() * itemSize;
            if (length < needed) {
                throw new InvalidModelException(file, field, "record '" + record + "' holds " + length + " bytes but"
                        + " its " + s.className() + " of " + s.numel() + " elements needs " + needed + ": the file"
                        + " is damaged (a short tensor record); copy it again, or export the part again");
            }
        }
    }

    private static InvalidModelException damaged(Path file, String field, ZipEntry entry, String problem,
                                                  Throwable cause) {
        return new InvalidModelException(file, field, "record '" + entry.getName() + "' " + problem
                + ": the file is damaged (copy it again, or export the part again)", cause);
    }

    /**
     * Checks that every tensor {@code module} holds fits inside its storage, and returns the shapes of its
     * parameters and buffers by qualified name (what later load-time checks may look at, e.g. the text encoder's
     * embedding table).
     *
     * @throws InvalidModelException naming the file, the field and the tensor that overruns its storage
     */
    public static Map<String, long[]> checkTensors(JitModule module, Path file, String field) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        named_attribute_list attributes = module.named_attributes(true);
        for (named_attribute_iterator it = attributes.begin(); it.notEquals(attributes.end()); it = it.increment()) {
            NamedIValue named = it.access();
            String name = named.name().getString();
            IValue value = named.value();
            if (value.isTensor()) {
                Tensor t = value.toTensor();
                check(t, name, file, field);
                if (t.defined()) {
                    shapes.put(name, Tensors.shape(t));
                }
            } else {
                checkNested(value, name, file, field, 0);
            }
        }
        return Collections.unmodifiableMap(shapes);
    }

    private static void checkNested(IValue value, String name, Path file, String field, int depth) {
        if (depth > MAX_NESTING) {
            return;
        }
        if (value.isTensor()) {
            check(value.toTensor(), name, file, field);
        } else if (value.isTuple()) {
            TupleElements elements = value.toTupleRef().elements();
            for (long i = 0; i < elements.size(); i++) {
                checkNested(elements.get(i), name + "[" + i + "]", file, field, depth + 1);
            }
        } else if (value.isList()) {
            GenericList elements = value.toList();
            for (long i = 0; i < elements.size(); i++) {
                checkNested(elements.get(i), name + "[" + i + "]", file, field, depth + 1);
            }
        }
        // Objects are submodules, whose attributes named_attributes(recurse) already lists.
    }

    private static void check(Tensor t, String name, Path file, String field) {
        if (!t.defined() || !t.has_storage() || t.is_sparse() || t.is_quantized() || t.is_mkldnn()) {
            return;
        }
        long numel = t.numel();
        if (numel == 0) {
            return;
        }
        long offset = t.storage_offset();
        long needed;
        try {
            long extent = 1; // elements from the first to the last one the tensor can address, inclusive
            for (int d = 0; d < t.dim(); d++) {
                long stride = t.stride(d);
                if (stride < 0) {
                    throw new InvalidModelException(file, field, "tensor '" + name + "' has a negative stride;"
                            + " the file is damaged");
                }
                extent = Math.addExact(extent, Math.multiplyExact(t.size(d) - 1, stride));
            }
            needed = Math.multiplyExact(Math.addExact(offset, extent), t.itemsize());
        } catch (ArithmeticException overflow) {
            needed = Long.MAX_VALUE;
        }
        long available = t.storage().nbytes();
        if (offset < 0 || needed > available) {
            throw new InvalidModelException(file, field, "tensor '" + name + "' " + Tensors.shapeString(t)
                    + " needs " + needed + " bytes of its storage record but the record holds " + available
                    + ": the file is damaged (a short tensor record); copy it again, or export the part again");
        }
    }
}
