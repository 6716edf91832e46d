package dev.instaflow.engine.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.GroupNorm} with affine weight and bias {@code [channels]}. */
public final class GroupNorm {
    private final long groups;
    private final double eps;
    private final TensorOptional weight;
    private final TensorOptional bias;

    private GroupNorm(long groups, double eps, TensorOptional weight, TensorOptional bias) {
        this.groups = groups;
        this.eps = eps;
        this.weight = weight;
        this.bias = bias;
    }

    public static GroupNorm load(Weights w, long groups, long channels, double eps) {
        return new GroupNorm(groups, eps, w.takeOptional("weight", channels), w.takeOptional("bias", channels));
    }

    public Tensor forward(Tensor x) {
        return torch.group_norm(x, groups, weight, bias, eps, true);
    }
}
