package dev.instaflow.engine.network;

import java.nio.file.Path;

/**
 * One network of a loaded model, whatever it is made of: a TorchScript file of a bundle, or a network built in Java
 * from a diffusers snapshot's weights. The pipeline sees only the role interfaces that extend this one
 * ({@link TextEncoderNetwork}, {@link DenoiserNetwork}, {@link VaeDecoderNetwork}, {@link VaeEncoderNetwork},
 * {@link RefinerNetwork}); calls are thread-safe and run inside the caller's pointer scope and inference mode.
 */
public interface NetworkPart extends AutoCloseable {
    /** The role, for messages: "text encoder", "denoiser", "VAE decoder", "VAE encoder", "velocity refiner". */
    String role();

    /** Where it was loaded from (a TorchScript file, or a snapshot component folder), for messages. */
    Path source();

    /** The manifest or snapshot field that named it (such as {@code parts.denoiser} or {@code unet}). */
    String field();

    /** Frees what the part owns. Idempotent; calls after it fail with {@link IllegalStateException}. */
    @Override
    void close();
}
