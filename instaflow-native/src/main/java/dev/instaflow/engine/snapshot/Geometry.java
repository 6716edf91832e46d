package dev.instaflow.engine.snapshot;

import dev.instaflow.InvalidBundleException;
import dev.instaflow.engine.bundle.JsonFields;

import java.nio.file.Path;

/**
 * What a snapshot's component configs say about the shapes that connect them, checked for agreement: the latent the
 * UNet and VAE share, the text width the text encoder makes and the UNet's cross-attention takes, the default image
 * size and the multiple every size must be.
 *
 * @param latentChannels  VAE {@code latent_channels} = UNet {@code in_channels} = {@code out_channels}
 * @param vaeScaleFactor  2^(VAE blocks − 1), as diffusers' pipelines compute it
 * @param scalingFactor   VAE {@code scaling_factor}
 * @param textHiddenSize  text encoder {@code hidden_size} = UNet {@code cross_attention_dim}
 * @param textPositions   text encoder {@code max_position_embeddings}
 * @param defaultSize     UNet {@code sample_size} × VAE scale factor (512 for SD 1.5 and 2.1-base)
 * @param sizeMultiple    VAE scale factor × 2^(UNet down blocks − 1), so that every UNet level divides evenly
 */
record Geometry(int latentChannels, int vaeScaleFactor, double scalingFactor, int textHiddenSize,
                int textPositions, int defaultSize, int sizeMultiple) {

    static Geometry read(Path snapshot) {
        Path vaeFile = snapshot.resolve(Snapshot.VAE).resolve(Snapshot.CONFIG_FILE);
        Path unetFile = snapshot.resolve(Snapshot.UNET).resolve(Snapshot.CONFIG_FILE);
        Path textFile = snapshot.resolve(Snapshot.TEXT_ENCODER).resolve(Snapshot.CONFIG_FILE);
        JsonFields vae = JsonFields.read(vaeFile);
        JsonFields unet = JsonFields.read(unetFile);
        JsonFields text = JsonFields.read(textFile);

        int latent = vae.integer("latent_channels", 1, 4096);
        int vaeBlocks = vae.integers("block_out_channels", 1, 1 << 16).length;
        int factor = 1 << (vaeBlocks - 1);
        double scaling = vae.number("scaling_factor", 0.18215);
        if (!(scaling > 0)) {
            throw vae.error("scaling_factor", "expected a number > 0, got " + scaling);
        }
        for (String key : new String[] {"in_channels", "out_channels"}) {
            int v = unet.integer(key, 1, 4096);
            if (v != latent) {
                throw unet.error(key, "is " + v + ", but the VAE's latent_channels (" + vaeFile + ") is " + latent
                        + "; the UNet denoises the VAE's latents");
            }
        }
        int hidden = text.integer("hidden_size", 1, 1 << 16);
        int cross = unet.integer("cross_attention_dim", 1, 1 << 16);
        if (cross != hidden) {
            throw unet.error("cross_attention_dim", "is " + cross + ", but the text encoder's hidden_size ("
                    + textFile + ") is " + hidden + "; the UNet attends to the text encoder's output");
        }
        int positions = text.integer("max_position_embeddings", 3, 1 << 16);
        int unetLevels = unet.integers("block_out_channels", 1, 1 << 16).length;
        int sample = unet.integer("sample_size", 1, 1 << 14, 64);
        int multiple = factor << (unetLevels - 1);
        int defaultSize = sample * factor;
        if (defaultSize % multiple != 0) {
            throw new InvalidBundleException(unetFile, "sample_size", "is " + sample + ", which is not a multiple"
                    + " of the UNet's downsampling (" + (1 << (unetLevels - 1)) + ")");
        }
        return new Geometry(latent, factor, scaling, hidden, positions, defaultSize, multiple);
    }
}
