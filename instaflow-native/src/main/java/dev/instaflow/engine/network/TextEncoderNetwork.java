package dev.instaflow.engine.network;

import org.bytedeco.pytorch.Tensor;

import java.util.OptionalLong;

/** A text encoder: framed token ids {@code int64 [B, L]} to {@code last_hidden_state} {@code [B, L, D]}. */
public interface TextEncoderNetwork extends NetworkPart {
    Tensor encode(Tensor ids);

    /**
     * Rows of the token-embedding table (valid ids are {@code 0..rows-1}), so the tokenizer can be checked against
     * it at load; empty when the network cannot tell (a traced part whose table has an unknown name).
     */
    OptionalLong tokenRows();

    /** Rows of the position-embedding table (the longest id sequence), or empty when the network cannot tell. */
    OptionalLong positionRows();
}
