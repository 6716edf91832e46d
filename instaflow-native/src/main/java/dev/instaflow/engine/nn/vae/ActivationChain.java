package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.Layers;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.util.function.UnaryOperator;

/**
 * Runs a network's stages one after another, each in its own pointer scope ({@link Layers#scoped}), and frees each
 * stage's output as soon as the next stage has consumed it: only the current activation (and the input, which the
 * caller owns) is alive between stages. A 512² decode thus holds one or two activations of ~100 MB at a time
 * instead of every block's output until the generation ends.
 */
final class ActivationChain {
    private final PointerScope scope;
    private final VaeTap tap;
    private Tensor current;
    private boolean owned;

    /** @throws IllegalStateException when no pointer scope is open */
    ActivationChain(Tensor input, VaeTap tap) {
        this.scope = PointerScope.getInnerScope();
        if (scope == null) {
            throw new IllegalStateException("networks run inside a PointerScope (a generation's or a test's)");
        }
        this.tap = tap;
        this.current = input;
    }

    /** Replaces the current activation with {@code stage(current)}, freeing the previous one unless it was the input. */
    ActivationChain then(UnaryOperator<Tensor> stage) {
        Tensor in = current;
        Tensor next = Layers.scoped(() -> stage.apply(in));
        if (owned) {
            scope.detach(in);
            // JavaCPP versions differ on whether detach releases the scope's reference
            if (in.referenceCount() > 0) {
                in.releaseReference();
            }
        }
        current = next;
        owned = true;
        return this;
    }

    /** Shows the current activation to the tap (valid only during the tap's call). */
    ActivationChain tap(String name) {
        tap.record(name, current);
        return this;
    }

    /** The final activation, attached to the caller's pointer scope. */
    Tensor result() {
        return current;
    }
}
