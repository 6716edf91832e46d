package dev.instaflow.engine.sampling;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The predictor and corrector updates shared by Heun-type steps, in the reference's float32 operation order
 * (one rounding per operation, no fused multiply-add): {@code x~ = x + (delta * d0)} and
 * {@code x' = x + (half * (d0 + d1))}.
 */
final class SecondOrderUpdate {
    private final Scalar delta;
    private final Scalar half;

    SecondOrderUpdate(LinspaceGrid grid) {
        this.delta = new Scalar((double) grid.delta());
        this.half = new Scalar((double) grid.halfDelta());
    }

    /** The Euler predictor point {@code x + delta * d0}. */
    Tensor predict(Tensor x, Tensor d0) {
        return x.add(d0.mul(delta));
    }

    /** The trapezoidal corrector {@code x + half * (d0 + d1)}. */
    Tensor correct(Tensor x, Tensor d0, Tensor d1) {
        return x.add(d0.add(d1).mul(half));
    }
}
