package dev.instaflow.train.model;

import com.google.gson.JsonObject;

/**
 * The sizes of the three networks. The latent is the image cut into {@code patch x patch} tiles stacked as
 * channels ({@code pixel_unshuffle}), so a 32 x 32 RGB image is a {@code 48 x 8 x 8} latent and the "VAE decoder"
 * is the exact inverse ({@code pixel_shuffle}): the flow runs in pixel space, on a grid the convolutions can
 * afford on two CPU cores.
 *
 * @param imageSize     training image side in pixels
 * @param patch         pixels per latent cell along a side (the bundle's {@code vae_scale_factor})
 * @param textWidth     width D of the text encoder's output {@code [B,77,D]}
 * @param channels      width of the velocity network's residual blocks
 * @param blocks        residual blocks at latent resolution
 * @param groups        group-norm groups
 * @param condHidden    width of the hidden layer that maps (time, text) to the blocks' scale and shift
 * @param timeFrequencies sinusoidal frequencies of the timestep embedding
 * @param attentionHeads heads of the self-attention layer over the latent cells in the middle of the block stack
 *                        (0: none); it lets every cell see the whole shape at once
 * @param predictsImage   whether the network's last layer predicts the clean image, turned into the velocity
 *                        inside the part ({@link VelocityNetwork}); otherwise it predicts the velocity directly
 */
public record ModelConfig(int imageSize, int patch, int textWidth, int channels, int blocks, int groups,
                          int condHidden, int timeFrequencies, int attentionHeads, boolean predictsImage) {
    public ModelConfig {
        if (imageSize % patch != 0) {
            throw new IllegalArgumentException("image size " + imageSize + " is not a multiple of the patch " + patch);
        }
        if (attentionHeads > 0 && channels % attentionHeads != 0) {
            throw new IllegalArgumentException("channels " + channels + " not divisible by heads " + attentionHeads);
        }
        if (channels % groups != 0) {
            throw new IllegalArgumentException("channels " + channels + " not divisible by groups " + groups);
        }
    }

    /** The configuration of the shipped default model. */
    public static ModelConfig standard() {
        return new ModelConfig(32, 4, 64, 96, 4, 8, 128, 16, 4, true);
    }

    /** A much smaller configuration for smoke tests. */
    public static ModelConfig tiny() {
        return new ModelConfig(32, 4, 16, 16, 1, 4, 32, 4, 2, true);
    }

    /** Latent channels: RGB times the patch area. */
    public int latentChannels() {
        return 3 * patch * patch;
    }

    /** Latent side for the training image size. */
    public int latentSize() {
        return imageSize / patch;
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("image_size", imageSize);
        o.addProperty("patch", patch);
        o.addProperty("text_width", textWidth);
        o.addProperty("channels", channels);
        o.addProperty("blocks", blocks);
        o.addProperty("groups", groups);
        o.addProperty("cond_hidden", condHidden);
        o.addProperty("time_frequencies", timeFrequencies);
        o.addProperty("attention_heads", attentionHeads);
        o.addProperty("predicts_image", predictsImage);
        return o;
    }

    public static ModelConfig fromJson(JsonObject o) {
        return new ModelConfig(o.get("image_size").getAsInt(), o.get("patch").getAsInt(),
                o.get("text_width").getAsInt(), o.get("channels").getAsInt(), o.get("blocks").getAsInt(),
                o.get("groups").getAsInt(), o.get("cond_hidden").getAsInt(), o.get("time_frequencies").getAsInt(),
                o.get("attention_heads").getAsInt(), o.get("predicts_image").getAsBoolean());
    }
}
