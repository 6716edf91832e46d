package dev.instaflow.engine.nn.unet;

import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Times the top-level blocks of the Java UNet through its taps (the parity tests' hooks): on the CPU the eager ops
 * run synchronously, so the time between two consecutive top-level taps is the block's. Bench-only; it lives in the
 * engine's package to reach the package-private tapped forward.
 */
public final class UNetBlockTimer {
    private static final Pattern TOP = Pattern.compile(
            "time_embedding|conv_in|down_block\\d+|mid_block|up_block\\d+|conv_norm_out|conv_out");

    private UNetBlockTimer() {
    }

    /** Runs one forward and returns milliseconds per top-level block, in order (conv_out includes its SiLU). */
    public static Map<String, Double> forward(UNet2DConditionModel unet, Tensor sample, Tensor timestep,
                                              Tensor context) {
        return forward(unet, sample, timestep, context, false);
    }

    /**
     * @param everyTap time between consecutive taps of any level (e.g. {@code up_block1_resnets0}): each entry is
     *                 the time since the previous tap, so it is the work that ends at that tap
     */
    public static Map<String, Double> forward(UNet2DConditionModel unet, Tensor sample, Tensor timestep,
                                              Tensor context, boolean everyTap) {
        Map<String, Double> ms = new LinkedHashMap<>();
        long[] last = {System.nanoTime()};
        unet.forward(sample, timestep, context, (name, t) -> {
            if (everyTap || TOP.matcher(name).matches()) {
                long now = System.nanoTime();
                ms.merge(name, (now - last[0]) / 1e6, Double::sum);
                last[0] = now;
            }
        });
        return ms;
    }
}
