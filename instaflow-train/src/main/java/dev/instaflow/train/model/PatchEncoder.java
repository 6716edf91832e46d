package dev.instaflow.train.model;

import dev.instaflow.engine.authoring.ScriptModuleBuilder;

/**
 * The bundle's "VAE encoder" ({@code parts.vae_encoder}), the mirror of {@link PatchDecoder}:
 * {@code pixel_unshuffle(image, patch)} of an image in [-1, 1], with no weights. It is exactly the latent the
 * training computes ({@link PatchDecoder#toLatents}), so image-to-image on these models starts from the very
 * latents the flow was trained on, and decoding it gives back the image.
 */
public final class PatchEncoder {
    private PatchEncoder() {
    }

    public static ScriptModuleBuilder build(ModelConfig config) {
        return build(config.patch());
    }

    public static ScriptModuleBuilder build(int patch) {
        return new ScriptModuleBuilder("PatchEncoder")
                .define("def forward(self, image: Tensor) -> Tensor:\n"
                        + "    return torch.pixel_unshuffle(image, " + patch + ")\n");
    }
}
