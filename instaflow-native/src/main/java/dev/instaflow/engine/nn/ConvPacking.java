package dev.instaflow.engine.nn;

import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * When and how {@link Conv2d} keeps its weight in oneDNN's blocked layout. Applies to float32 k×k weights (k > 1)
 * on the CPU when LibTorch has oneDNN, unless the system property {@value #PROPERTY} is {@code eager} (read at each load, for
 * A/B measurements: {@code instaflow-bench} builds the same network both ways in one process).
 *
 * <p>The weight is reordered for an input of 1×in×{@value #PACK_SIZE}×{@value #PACK_SIZE}: oneDNN's AVX-512 and
 * AVX2 kernels pick the same blocked weight layout at every batch and latent size the SD networks use; where a call
 * would want another, oneDNN reorders the packed weight for that call (correct, only slower). The input size must be
 * given: packed without it, 1×1 weights came out in a layout that gave wrong results in a probe
 * ({@code instaflow-bench/scripts/ConvBackendProbe.java}); with it, every probed shape matched eager
 * {@code conv2d} (bit for bit, or within 5e-6 where eager picks another algorithm).
 *
 * <p>1×1 convolutions stay eager: packing them gains little (≤ 1.1× in the probe: oneDNN runs them as a matrix
 * product and their weights are small), oneDNN 3.7's layout query for some 1×1 shapes divides by zero
 * ({@code brgemm_convolution_utils::brg_blocking_t::est_eff_1x1}, SIGFPE: the JVM dies; seen for a 1024→512
 * shortcut of the medium UNet), and without an input size the query returned a wrong layout.
 */
public final class ConvPacking {
    /** System property: {@code packed} (the default) or {@code eager}. */
    public static final String PROPERTY = "instaflow.cpu.conv";
    static final long PACK_SIZE = 32;

    private ConvPacking() {
    }

    /** Whether a convolution with {@code weight} is prepacked at load. */
    public static boolean applies(Tensor weight) {
        return weight.dim() == 4 && weight.size(2) > 1 && weight.size(3) > 1
                && !"eager".equals(System.getProperty(PROPERTY, "packed")) && weight.device().is_cpu()
                && Tensors.dtype(weight) == ScalarType.Float && !weight.requires_grad() && torch.hasMKLDNN();
    }

    /** The weight {@code [out, in, k, k]} reordered into oneDNN's layout for a convolution of that stride/padding. */
    static Tensor pack(Tensor weight, long stride, long padding) {
        long in = weight.size(1);
        return torch.mkldnn_reorder_conv2d_weight(weight.contiguous().to_mkldnn(), new long[] {padding, padding},
                new long[] {stride, stride}, new long[] {1, 1}, 1, 1, in, PACK_SIZE, PACK_SIZE);
    }
}
