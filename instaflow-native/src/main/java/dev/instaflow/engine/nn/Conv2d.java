package dev.instaflow.engine.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.Conv2d} with a square kernel, equal stride and padding on both axes, groups 1, with bias. */
public final class Conv2d {
    private final Tensor weight;
    private final TensorOptional bias;
    private final long[] stride;
    private final long[] padding;
    private static final long[] DILATION = {1, 1};

    private Conv2d(Tensor weight, TensorOptional bias, long stride, long padding) {
        this.weight = weight;
        this.bias = bias;
        this.stride = new long[] {stride, stride};
        this.padding = new long[] {padding, padding};
    }

    /** Takes {@code weight} {@code [out, in, k, k]} and {@code bias} {@code [out]}. */
    public static Conv2d load(Weights w, long in, long out, int kernel, int stride, int padding) {
        Tensor weight = w.take("weight", out, in, kernel, kernel);
        return new Conv2d(weight, w.takeOptional("bias", out), stride, padding);
    }

    public Tensor forward(Tensor x) {
        return torch.conv2d(x, weight, bias, stride, padding, DILATION, 1);
    }
}
