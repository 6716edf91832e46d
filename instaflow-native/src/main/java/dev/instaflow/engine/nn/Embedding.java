package dev.instaflow.engine.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.Embedding}: rows of {@code weight [count, dim]} by int64 index. */
public final class Embedding {
    private final Tensor weight;
    private final long count;

    private Embedding(Tensor weight, long count) {
        this.weight = weight;
        this.count = count;
    }

    public static Embedding load(Weights w, long count, long dim) {
        return new Embedding(w.take("weight", count, dim), count);
    }

    /** The number of rows: ids must lie in {@code [0, count)}. */
    public long count() {
        return count;
    }

    /** The whole table, {@code [count, dim]}. */
    public Tensor weight() {
        return weight;
    }

    public Tensor forward(Tensor ids) {
        return torch.embedding(weight, ids);
    }
}
