package dev.instaflow.engine.network;

import org.bytedeco.pytorch.Tensor;

/** A text encoder: framed token ids {@code int64 [B, L]} to {@code last_hidden_state} {@code [B, L, D]}. */
public interface TextEncoderNetwork extends NetworkPart {
    Tensor encode(Tensor ids);
}
