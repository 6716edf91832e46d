package dev.instaflow.train.training;

import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.train.reflow.PairSet;
import dev.instaflow.train.tokenizer.CaptionIds;
import org.bytedeco.pytorch.Tensor;

import java.util.SplittableRandom;

/**
 * Batches drawn (with replacement) from fixed noise/end-point pairs: reflow (2-RF) trains its flow on them and
 * distillation its one step. A caption is replaced by the empty prompt with probability {@code dropCaption}
 * (reflow keeps guidance usable; distillation uses 0).
 */
public final class PairBatches implements BatchSource {
    private final PairSet pairs;
    private final long[] rows;
    private final CaptionIds ids;
    private final int batchSize;
    private final double dropCaption;
    private final long seed;
    private final int positions;

    public PairBatches(PairSet pairs, CaptionIds ids, int batchSize, double dropCaption, long seed) {
        this.pairs = pairs;
        this.rows = pairs.rowArray();
        this.ids = ids;
        this.batchSize = batchSize;
        this.dropCaption = dropCaption;
        this.seed = seed;
        this.positions = ids.trainingPositions();
    }

    @Override
    public Batch batch(long step) {
        SplittableRandom random = new SplittableRandom(BatchSource.mix(seed, step, 3));
        long[] index = new long[batchSize];
        int[] captionRows = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            index[b] = random.nextLong(pairs.size());
            captionRows[b] = random.nextDouble() < dropCaption ? ids.emptyRow() : (int) rows[(int) index[b]];
        }
        Tensor i = Tensors.fromLongs(index, batchSize);
        return new Batch(pairs.x0().index_select(0, i), pairs.x1().index_select(0, i), ids.rows(captionRows, positions));
    }
}
