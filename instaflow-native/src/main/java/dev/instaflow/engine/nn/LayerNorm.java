package dev.instaflow.engine.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.LayerNorm} over the last dimension, with affine weight and bias. */
public final class LayerNorm {
    private final long[] shape;
    private final double eps;
    private final TensorOptional weight;
    private final TensorOptional bias;

    private LayerNorm(long dim, double eps, TensorOptional weight, TensorOptional bias) {
        this.shape = new long[] {dim};
        this.eps = eps;
        this.weight = weight;
        this.bias = bias;
    }

    public static LayerNorm load(Weights w, long dim, double eps) {
        return new LayerNorm(dim, eps, w.takeOptional("weight", dim), w.takeOptional("bias", dim));
    }

    public Tensor forward(Tensor x) {
        return torch.layer_norm(x, shape, weight, bias, eps, true);
    }
}
