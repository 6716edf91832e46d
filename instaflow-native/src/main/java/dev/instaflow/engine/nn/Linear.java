package dev.instaflow.engine.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.Linear}: {@code y = x·Wᵀ + b} over the last dimension; weight {@code [out, in]}. */
public final class Linear {
    private final Tensor weight;
    private final TensorOptional bias;

    private Linear(Tensor weight, TensorOptional bias) {
        this.weight = weight;
        this.bias = bias;
    }

    /** Takes {@code weight} {@code [out, in]} and, if {@code withBias}, {@code bias} {@code [out]} from {@code w}. */
    public static Linear load(Weights w, long in, long out, boolean withBias) {
        Tensor weight = w.take("weight", out, in);
        return new Linear(weight, withBias ? w.takeOptional("bias", out) : Layers.NONE);
    }

    public Tensor forward(Tensor x) {
        return torch.linear(x, weight, bias);
    }
}
