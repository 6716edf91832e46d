package dev.instaflow.engine.nn;

import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * When and how {@link Conv2d} keeps its weight in oneDNN's blocked layout. Applies to float32 k×k weights (k > 1) of
 * at least {@value #MIN_PACKED_BYTES} bytes on the CPU when LibTorch has oneDNN. The system property
 * {@value #PROPERTY} ({@code large}, the default; {@code all}; {@code eager}) changes that, read at each load, for
 * A/B measurements: {@code instaflow-bench} builds the same network both ways in one process.
 *
 * <p>Why only large weights: eager {@code conv2d} reorders the weight into a fresh buffer on every call. Below 32 MiB
 * (glibc's largest mmap threshold) that buffer comes from the heap, which keeps freed memory ({@code NativeHeap}),
 * so the reorder is a warm copy; above it, every call maps and faults the buffer in again (222 ms against 21 ms for
 * SD-1.5's 2560→1280 3×3 at 8×8). For smaller weights packing gained 0.9–1.3× per layer in the probe and nothing
 * measurable in the tiny model's pipeline (within the run-to-run noise of ±15 %), while every packed layer adds a
 * layout query of the kind that crashed oneDNN for a 1×1 shape (below); so only the large ones are packed.
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
    /** System property: {@code large} (the default), {@code all} (every k×k weight) or {@code eager} (none). */
    public static final String PROPERTY = "instaflow.cpu.conv";
    /** 32 MiB: glibc's largest mmap threshold, above which eager's per-call reorder buffer is faulted in afresh. */
    static final long MIN_PACKED_BYTES = 32L << 20;
    static final long PACK_SIZE = 32;

    private ConvPacking() {
    }

    /** Whether a convolution with {@code weight} is prepacked at load. */
    public static boolean applies(Tensor weight) {
        String mode = System.getProperty(PROPERTY, "large");
        boolean sizeOk = mode.equals("all") || !mode.equals("eager") && weight.numel() * 4 >= MIN_PACKED_BYTES;
        return sizeOk && weight.dim() == 4 && weight.size(2) > 1 && weight.size(3) > 1 && weight.device().is_cpu()
                && Tensors.dtype(weight) == ScalarType.Float && !weight.requires_grad() && torch.hasMKLDNN();
    }

    /** The weight {@code [out, in, k, k]} reordered into oneDNN's layout for a convolution of that stride/padding. */
    static Tensor pack(Tensor weight, long stride, long padding) {
        long in = weight.size(1);
        return torch.mkldnn_reorder_conv2d_weight(weight.contiguous().to_mkldnn(), new long[] {padding, padding},
                new long[] {stride, stride}, new long[] {1, 1}, 1, 1, in, PACK_SIZE, PACK_SIZE);
    }
}
