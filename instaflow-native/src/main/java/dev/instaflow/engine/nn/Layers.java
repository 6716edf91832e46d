package dev.instaflow.engine.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;

import java.util.function.Supplier;

/** Small native-memory helpers shared by the layers and networks. */
public final class Layers {
    private Layers() {
    }

    /** The empty optional argument (no bias), one for the process: it owns no tensor. */
    public static final TensorOptional NONE = retained(new TensorOptional());

    private static TensorOptional retained(TensorOptional o) {
        o.retainReference();
        return o;
    }

    /**
     * Runs {@code block} in its own {@link PointerScope} and moves its result to the caller's scope, so that the
     * block's intermediate tensors are freed as soon as it returns instead of at the end of the whole generation (a
     * full-size UNet would otherwise hold every activation of its forward at once).
     *
     * @throws IllegalStateException when no pointer scope is open (networks run inside a generation's scope)
     */
    public static Tensor scoped(Supplier<Tensor> block) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer == null) {
            throw new IllegalStateException("networks run inside a PointerScope (a generation's or a test's)");
        }
        Tensor result;
        try (PointerScope inner = new PointerScope()) {
            result = block.get();
            result.retainReference();
        }
        outer.attach(result);
        result.releaseReference();
        return result;
    }
}
