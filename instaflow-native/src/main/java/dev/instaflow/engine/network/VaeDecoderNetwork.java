package dev.instaflow.engine.network;

import org.bytedeco.pytorch.Tensor;

/**
 * A VAE decoder including {@code post_quant_conv}: {@code z [B,C,h,w]}, already divided by the scaling factor, to an
 * image {@code [B,3,f·h,f·w]} nominally in [-1, 1].
 */
public interface VaeDecoderNetwork extends NetworkPart {
    Tensor decode(Tensor z);
}
