package dev.instaflow.engine.snapshot;

import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.nn.unet.UNetConfig;
import dev.instaflow.engine.nn.vae.VaeConfig;

/**
 * What a snapshot's component configs say about the shapes that connect them, checked for agreement: the latent the
 * UNet and VAE share, the text width the text encoder makes and the UNet's cross-attention takes, the default image
 * size and the multiple every size must be.
 *
 * @param latentChannels VAE {@code latent_channels} = UNet {@code in_channels} = {@code out_channels}
 * @param vaeScaleFactor 2^(VAE blocks − 1), as diffusers' pipelines compute it
 * @param scalingFactor  VAE {@code scaling_factor}
 * @param textHiddenSize text encoder {@code hidden_size} = UNet {@code cross_attention_dim}
 * @param textPositions  text encoder {@code max_position_embeddings}
 * @param defaultWidth   UNet {@code sample_size} × VAE scale factor (512 for SD 1.5 and 2.1-base)
 * @param defaultHeight  likewise
 * @param sizeMultiple   VAE scale factor × 2^(UNet downsamplers), so that every UNet level divides evenly
 */
record Geometry(int latentChannels, int vaeScaleFactor, double scalingFactor, int textHiddenSize,
                int textPositions, int defaultWidth, int defaultHeight, int sizeMultiple) {

    static Geometry of(SnapshotConfigs c) {
        VaeConfig vae = c.vae();
        UNetConfig unet = c.unet();
        int latent = vae.latentChannels();
        if (unet.inChannels() != latent || unet.outChannels() != latent) {
            throw new InvalidModelException(unet.file(), unet.inChannels() != latent ? "in_channels" : "out_channels",
                    "is " + (unet.inChannels() != latent ? unet.inChannels() : unet.outChannels()) + ", but the VAE's"
                    + " latent_channels (" + vae.file() + ") is " + latent + "; the UNet denoises the VAE's latents");
        }
        int hidden = c.textEncoder().hiddenSize();
        if (unet.crossAttentionDim() != hidden) {
            throw new InvalidModelException(unet.file(), "cross_attention_dim", "is " + unet.crossAttentionDim()
                    + ", but the text encoder's hidden_size (" + c.textEncoder().file() + ") is " + hidden
                    + "; the UNet attends to the text encoder's output");
        }
        int factor = vae.vaeScaleFactor();
        int multiple = factor << unet.downsamplers();
        int width = unet.sampleSize()[1] * factor;
        int height = unet.sampleSize()[0] * factor;
        if (width % multiple != 0 || height % multiple != 0) {
            throw new InvalidModelException(unet.file(), "sample_size", "is " + unet.sampleSize()[0] + "x"
                    + unet.sampleSize()[1] + " latent cells, not a multiple of the UNet's downsampling ("
                    + (1 << unet.downsamplers()) + ")");
        }
        return new Geometry(latent, factor, vae.scalingFactor(), hidden, c.textEncoder().maxPositions(), width,
                height, multiple);
    }
}
