package dev.instaflow.engine.network;

import org.bytedeco.pytorch.Tensor;

/**
 * A VAE encoder including {@code quant_conv}: an image {@code [B,3,H,W]} in [-1, 1] to the mean of the latent
 * distribution {@code [B,C,H/f,W/f]} (not sampled, not yet multiplied by the scaling factor).
 */
public interface VaeEncoderNetwork extends NetworkPart {
    Tensor encodeMean(Tensor image);
}
