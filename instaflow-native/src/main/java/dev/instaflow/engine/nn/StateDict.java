package dev.instaflow.engine.nn;

import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The weights of one network component (a text encoder, a UNet, a VAE) as loaded from its files: every tensor keeps
 * the file it came from, so load errors name it. Owns the tensors: they are retained out of any
 * {@link org.bytedeco.javacpp.PointerScope} when added and released by {@link #close()}, which the network that was
 * built from them calls when it closes. Building a network takes every tensor it needs by key
 * ({@link Weights#take}); {@link #requireAllTaken()} then reports any stored key nothing took, so a checkpoint of
 * another architecture or configuration cannot load half-used.
 */
public final class StateDict implements Weights, AutoCloseable {
    /** One stored tensor and the file it was read from. */
    public record Entry(Tensor tensor, Path file) {
    }

    private final String component;
    private final Path defaultFile;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Set<String> used = ConcurrentHashMap.newKeySet();
    private final List<TensorOptional> optionals = new ArrayList<>();
    private boolean closed;

    /**
     * @param component   what the weights belong to, for messages ("unet")
     * @param defaultFile the file (or folder) named in messages about keys that are missing
     */
    public StateDict(String component, Path defaultFile) {
        this.component = component;
        this.defaultFile = defaultFile;
    }

    /** Adds {@code tensor} under {@code key}, taking ownership. @throws InvalidModelException on a duplicate key */
    public void put(String key, Tensor tensor, Path file) {
        Entry previous = entries.get(key);
        if (previous != null) {
            throw new InvalidModelException(file, key, "is stored twice (also in " + previous.file().getFileName()
                    + ")");
        }
        tensor.retainReference();
        entries.put(key, new Entry(tensor, file));
    }

    public String component() {
        return component;
    }

    public Set<String> keys() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    /** The stored entry; a convolution weight is in oneDNN's layout once a CPU network took it ({@link #adopt}). */
    public Entry entry(String key) {
        return entries.get(key);
    }

    /** Total bytes of the stored tensors. */
    public long bytes() {
        long total = 0;
        for (Entry e : entries.values()) {
            total += e.tensor().nbytes();
        }
        return total;
    }

    @Override
    public Tensor take(String key, long... shape) {
        Entry e = entries.get(key);
        if (e == null) {
            throw new InvalidModelException(defaultFile, key, "the " + component + " weight is missing: expected a"
                    + " tensor of shape " + Arrays.toString(shape) + " (a checkpoint of another architecture, or a"
                    + " config.json that does not match the weights?)");
        }
        long[] actual = Tensors.shape(e.tensor());
        if (!Arrays.equals(actual, shape)) {
            throw new InvalidModelException(e.file(), key, "has shape " + Arrays.toString(actual) + ", but the "
                    + component + " config needs " + Arrays.toString(shape));
        }
        used.add(key);
        return e.tensor();
    }

    @Override
    public synchronized TensorOptional takeOptional(String key, long... shape) {
        TensorOptional o = new TensorOptional(take(key, shape));
        o.retainReference();
        optionals.add(o);
        return o;
    }

    /**
     * Stores {@code replacement} (taking ownership) in place of the tensor taken under {@code key}, and releases that
     * one: a layer keeps its weight in another layout and the plain copy would double the memory.
     */
    @Override
    public synchronized void adopt(String key, Tensor replacement) {
        Entry e = entries.get(key);
        if (e == null || !used.contains(key)) {
            throw new IllegalStateException("adopt(" + key + ") before the key was taken");
        }
        if (e.tensor() != replacement) {
            replacement.retainReference();
            entries.put(key, new Entry(replacement, e.file()));
            e.tensor().releaseReference();
        }
    }

    @Override
    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    @Override
    public void ignore(String key) {
        if (entries.containsKey(key)) {
            used.add(key);
        }
    }

    @Override
    public Weights at(String prefix) {
        return new View(this, prefix);
    }

    @Override
    public String fullKey(String key) {
        return key;
    }

    @Override
    public String prefix() {
        return "";
    }

    /**
     * @throws InvalidModelException naming the first stored keys that no layer took (unexpected weights)
     */
    public void requireAllTaken() {
        Set<String> unexpected = new TreeSet<>(entries.keySet());
        unexpected.removeAll(used);
        if (!unexpected.isEmpty()) {
            String first = unexpected.iterator().next();
            String more = unexpected.size() > 1 ? " (and " + (unexpected.size() - 1) + " more: "
                    + String.join(", ", unexpected.stream().skip(1).limit(4).toList())
                    + (unexpected.size() > 5 ? ", ..." : "") + ")" : "";
            throw new InvalidModelException(entries.get(first).file(), first, "unexpected " + component
                    + " weight: the network its config.json describes has no such parameter" + more);
        }
    }

    /** Releases every tensor. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            for (TensorOptional o : optionals) {
                o.releaseReference();
            }
            optionals.clear();
            for (Entry e : entries.values()) {
                e.tensor().releaseReference();
            }
            entries.clear();
        }
    }

    /** A prefixed view of a state dict. */
    private record View(StateDict dict, String prefix) implements Weights {
        @Override
        public Tensor take(String key, long... shape) {
            return dict.take(fullKey(key), shape);
        }

        @Override
        public TensorOptional takeOptional(String key, long... shape) {
            return dict.takeOptional(fullKey(key), shape);
        }

        @Override
        public void adopt(String key, Tensor replacement) {
            dict.adopt(fullKey(key), replacement);
        }

        @Override
        public boolean contains(String key) {
            return dict.contains(fullKey(key));
        }

        @Override
        public void ignore(String key) {
            dict.ignore(fullKey(key));
        }

        @Override
        public Weights at(String child) {
            return new View(dict, prefix + "." + child);
        }

        @Override
        public String fullKey(String key) {
            return prefix + "." + key;
        }
    }
}
