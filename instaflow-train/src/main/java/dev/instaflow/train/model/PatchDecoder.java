package dev.instaflow.train.model;

import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The bundle's "VAE decoder": the exact inverse of cutting the image into patches, {@code pixel_shuffle(z, patch)},
 * with no weights. The latent of an image is {@code pixel_unshuffle(image, patch)} with pixels in [-1, 1] and
 * scaling factor 1, so the SDK's decode ({@code z / 1}, this, {@code x / 2 + 0.5}) gives back the image.
 */
public final class PatchDecoder {
    private PatchDecoder() {
    }

    public static ScriptModuleBuilder build(ModelConfig config) {
        return new ScriptModuleBuilder("PatchDecoder")
                .define("def forward(self, z: Tensor) -> Tensor:\n"
                        + "    return torch.pixel_shuffle(z, " + config.patch() + ")\n");
    }

    /** Image {@code [B,3,H,W]} in [-1, 1] to its latent. */
    public static Tensor toLatents(Tensor images, ModelConfig config) {
        return torch.pixel_unshuffle(images, config.patch());
    }

    /** Latent to image, as the decoder part does it. */
    public static Tensor toImages(Tensor latents, ModelConfig config) {
        return torch.pixel_shuffle(latents, config.patch());
    }
}
