package dev.instaflow.train.tokenizer;

import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.text.ClipTokenizer;
import dev.instaflow.engine.text.TokenizedBatch;
import dev.instaflow.engine.text.TokenizerFraming;
import dev.instaflow.train.data.Caption;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The framed token ids of every caption and of the empty prompt, made once by the SDK's own tokenizer over the
 * model's tokenizer folder, so training sees exactly the ids {@code generate} will feed the text encoder. Row
 * {@code i} is {@code Caption.all().get(i)}; the last row is the empty prompt (the unconditional text of
 * classifier-free guidance and of dropped captions).
 */
public final class CaptionIds {
    private final long[] ids;
    private final int length;
    private final BundleManifest.Text framing;

    private CaptionIds(long[] ids, int length, BundleManifest.Text framing) {
        this.ids = ids;
        this.length = length;
        this.framing = framing;
    }

    public static CaptionIds load(Path tokenizerFolder) {
        TorchRuntime.ensureLoaded();
        BundleManifest.Text framing = TokenizerFraming.read(tokenizerFolder);
        List<String> texts = new ArrayList<>();
        Caption.all().forEach(c -> texts.add(c.text()));
        texts.add("");
        try (ClipTokenizer tokenizer = ClipTokenizer.load(tokenizerFolder, framing)) {
            TokenizedBatch batch = tokenizer.encode(texts);
            return new CaptionIds(batch.ids(), batch.maxLength(), framing);
        }
    }

    /** Row index of the empty prompt. */
    public int emptyRow() {
        return Caption.all().size();
    }

    public int rowOf(Caption caption) {
        return Caption.all().indexOf(caption);
    }

    /** Ids per row (77 for CLIP). */
    public int length() {
        return length;
    }

    public BundleManifest.Text framing() {
        return framing;
    }

    /** Every distinct id the captions and the empty prompt use, sorted. */
    public long[] usedIds() {
        return Arrays.stream(ids).distinct().sorted().toArray();
    }

    /**
     * The ids of {@code rows} as an int64 tensor {@code [rows.length, keep]}: the first {@code keep} positions of
     * each row. Training keeps only as many positions as the longest caption needs plus one (the text encoder is
     * convolutional and zeroes the padding, so the dropped positions change nothing), which makes the text encoder
     * several times cheaper than on all 77.
     */
    public Tensor rows(int[] rows, int keep) {
        long[] out = new long[rows.length * keep];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(ids, rows[i] * length, out, i * keep, keep);
        }
        return Tensors.fromLongs(out, rows.length, keep);
    }

    /** Positions worth keeping in {@link #rows}: the longest caption's tokens, its two markers, and one pad. */
    public int trainingPositions() {
        int longest = 0;
        for (int r = 0; r <= emptyRow(); r++) {
            int n = 1; // after the begin marker
            while (n < length && ids[r * length + n] != framing.padId()) {
                n++;
            }
            longest = Math.max(longest, n);
        }
        return Math.min(length, longest + 2);
    }
}
