package dev.instaflow.engine.runtime;

import dev.instaflow.InferenceException;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.List;

/**
 * Fails a generation whose text embeddings, latents or decoded image hold NaN or infinity, instead of quantising
 * them into a black or grey PNG. Each {@link #record} queues one {@code isfinite(t).all()} reduction on the device
 * (no host synchronisation); {@link #verify} reads all flags at once, after the pipeline's one synchronisation, and
 * names the first stage that went wrong.
 *
 * <p>One per generation, used from the generating thread only. Its tensors belong to the generation's
 * {@code PointerScope}.
 */
public final class FiniteCheck {
    private final List<String> stages = new ArrayList<>();
    private final List<Tensor> flags = new ArrayList<>();

    /** Queues the check of {@code t}, described as {@code stage} in the error ("the text embeddings"). */
    public void record(String stage, Tensor t) {
        stages.add(stage);
        flags.add(torch.isfinite(t).all());
    }

    /**
     * @param hint what usually causes it, appended to the message
     * @throws InferenceException naming the first stage whose values were not all finite
     */
    public void verify(String hint) {
        if (flags.isEmpty()) {
            return;
        }
        TensorVector all = new TensorVector(flags.toArray(new Tensor[0]));
        long[] ok = Tensors.toLongs(torch.stack(all).to(ScalarType.Long));
        for (int i = 0; i < ok.length; i++) {
            if (ok[i] == 0) {
                throw new InferenceException(stages.get(i) + " hold NaN or infinite values, so the image would be"
                        + " garbage (written as black or grey pixels); " + hint, null);
            }
        }
    }
}
