package dev.instaflow.engine.nn.vae;

import org.bytedeco.pytorch.Tensor;

/**
 * Receives the VAE's intermediate activations by the names the reference fixtures use (decoder: {@code
 * post_quant_conv}, {@code conv_in}, {@code mid_block}, {@code up_block0}.., {@code conv_norm_out} (the GroupNorm,
 * before SiLU), {@code conv_out}; encoder: {@code conv_in}, {@code down_block0}.., {@code mid_block},
 * {@code conv_norm_out}, {@code conv_out}, {@code quant_conv}), for parity tests. The tensors live in the caller's
 * pointer scope and are valid only during the call (copy what you keep).
 */
@FunctionalInterface
interface VaeTap {
    VaeTap NONE = (name, t) -> { };

    void record(String name, Tensor t);
}
