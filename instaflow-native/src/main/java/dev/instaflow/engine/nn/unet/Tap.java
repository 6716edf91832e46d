package dev.instaflow.engine.nn.unet;

import org.bytedeco.pytorch.Tensor;

import java.util.function.BiConsumer;

/**
 * Where the network reports named intermediate tensors (for parity tests against diffusers' forward hooks). The
 * tensor is only valid during the call: a tap that keeps it copies it.
 */
final class Tap {
    static final Tap NONE = new Tap(null, "");

    private final BiConsumer<String, Tensor> sink;
    private final String prefix;

    private Tap(BiConsumer<String, Tensor> sink, String prefix) {
        this.sink = sink;
        this.prefix = prefix;
    }

    static Tap of(BiConsumer<String, Tensor> sink) {
        return sink == null ? NONE : new Tap(sink, "");
    }

    /** A tap whose names are {@code prefix + "_" + name}. */
    Tap child(String name) {
        return sink == null ? NONE : new Tap(sink, full(name));
    }

    /** Reports {@code t} as {@code name} (under this tap's prefix); returns {@code t}. */
    Tensor put(String name, Tensor t) {
        if (sink != null) {
            sink.accept(full(name), t);
        }
        return t;
    }

    /** Reports {@code t} under this tap's prefix itself. */
    Tensor put(Tensor t) {
        if (sink != null) {
            sink.accept(prefix, t);
        }
        return t;
    }

    private String full(String name) {
        return prefix.isEmpty() ? name : prefix + "_" + name;
    }
}
