package dev.instaflow.engine.network;

import org.bytedeco.pytorch.Tensor;

/**
 * A denoiser (UNet): {@code (sample [B,C,h,w] in the model dtype, timestep float32 [B], encoder_hidden_states
 * [B,L,D]) -> [B,C,h,w]}; what the output means (velocity or noise) is the model family's business.
 */
public interface DenoiserNetwork extends NetworkPart {
    Tensor predict(Tensor sample, Tensor timestep, Tensor encoderHiddenStates);
}
