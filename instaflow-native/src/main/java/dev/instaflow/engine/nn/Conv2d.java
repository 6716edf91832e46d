package dev.instaflow.engine.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code torch.nn.Conv2d} with a square kernel, equal stride and padding on both axes, groups 1, with bias.
 *
 * <p>On the CPU in float32 a k×k weight (k > 1) is re-laid out once, at load, into oneDNN's blocked layout
 * ({@link ConvPacking}) and every call runs {@code mkldnn_convolution} on it; the store's plain copy is then dropped
 * ({@link Weights#adopt}). Eager {@code conv2d} would hand oneDNN the plain OIHW weight on every call, and oneDNN
 * would reorder it into a freshly allocated buffer each time: for the big UNet weights (118 MB for 2560→1280 3×3)
 * that reorder, mostly page faults of the new buffer, costs 10× the convolution itself. Elsewhere (CUDA, float16)
 * the layer runs eager {@code conv2d} on the plain weight.
 */
public final class Conv2d {
    private static final long[] DILATION = {1, 1};

    private final Tensor weight;
    private final Tensor packed;
    private final TensorOptional bias;
    private final long[] stride;
    private final long[] padding;

    private Conv2d(Tensor weight, Tensor packed, TensorOptional bias, long stride, long padding) {
        this.weight = weight;
        this.packed = packed;
        this.bias = bias;
        this.stride = new long[] {stride, stride};
        this.padding = new long[] {padding, padding};
    }

    /** Takes {@code weight} {@code [out, in, k, k]} and {@code bias} {@code [out]}. */
    public static Conv2d load(Weights w, long in, long out, int kernel, int stride, int padding) {
        Tensor weight = w.take("weight", out, in, kernel, kernel);
        TensorOptional bias = w.takeOptional("bias", out);
        if (weight.is_mkldnn()) { // packed by a network built before from the same weights
            return new Conv2d(null, weight, bias, stride, padding);
        }
        if (ConvPacking.applies(weight)) {
            Tensor packed = ConvPacking.pack(weight, stride, padding);
            w.adopt("weight", packed);
            return new Conv2d(null, packed, bias, stride, padding);
        }
        return new Conv2d(weight, null, bias, stride, padding);
    }

    /** Whether this layer runs on a prepacked oneDNN weight. */
    public boolean packed() {
        return packed != null;
    }

    public Tensor forward(Tensor x) {
        if (packed != null) {
            return torch.mkldnn_convolution(x, packed, bias, padding, stride, DILATION, 1);
        }
        return torch.conv2d(x, weight, bias, stride, padding, DILATION, 1);
    }
}
