package dev.instaflow.engine.nn;

import dev.instaflow.InvalidModelException;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;

/**
 * Named weight tensors of one network component, as a state dict seen from one module's prefix. Layers take their
 * tensors by name and expected shape; a missing key or a wrong shape fails at load as an
 * {@link InvalidModelException} naming the weights file and the full key. Tensors come already on the model's device
 * and in its dtype; the {@link StateDict} behind a view owns them.
 */
public interface Weights {
    /**
     * The tensor stored under {@code key} (relative to this view's prefix), checked to have exactly {@code shape}.
     *
     * @throws InvalidModelException when the key is missing or the stored shape differs
     */
    Tensor take(String key, long... shape);

    /**
     * The tensor under {@code key} as LibTorch's optional argument (a bias, a norm's affine weight), checked like
     * {@link #take}; the optional wrapper is owned, and freed, with the weights.
     */
    TensorOptional takeOptional(String key, long... shape);

    /**
     * Tells the store that the layer which took {@code key} keeps its own re-laid-out copy of it ({@code replacement},
     * e.g. a convolution weight in oneDNN's blocked layout), so the store may hold that instead of the plain tensor
     * and free the plain one. The default keeps the plain tensor.
     */
    default void adopt(String key, Tensor replacement) {
    }

    /** Whether {@code key} (relative to this view's prefix) is stored. */
    boolean contains(String key);

    /**
     * Marks {@code key} as known and unused (such as CLIP's {@code position_ids} buffer, which some checkpoints
     * store and the network recomputes), so that it is not reported as unexpected. No-op when absent.
     */
    void ignore(String key);

    /** The view of the keys under {@code prefix + "."}, e.g. {@code at("down_blocks").at("0")}. */
    Weights at(String prefix);

    /** The full key of {@code key} in this view, for messages. */
    String fullKey(String key);

    /** The view's full prefix ("" at the top). */
    String prefix();
}
