package dev.instaflow.spi;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The image a generation starts from (image-to-image, inpainting), checked against the model: every image and the
 * mask are {@code width x height} of the plan, the strength is in (0, 1], and the model has a VAE encoder.
 *
 * @param images             one image for the whole batch, or one per prompt (each prompt's images share it)
 * @param strength           s in (0, 1]: sampling starts at t0 = s * time_scale from {@code s * noise + (1 - s) * x}
 * @param mask               white = repaint, black = keep; reduced to the latent grid (see {@code docs/samplers.md})
 * @param keepUnmaskedPixels paste the original pixels outside the mask into the decoded images
 */
public record ImageInput(List<BufferedImage> images, double strength, Optional<BufferedImage> mask,
                         boolean keepUnmaskedPixels) {
    public ImageInput {
        images = List.copyOf(images);
        Objects.requireNonNull(mask, "mask");
        if (images.isEmpty() || !(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("inconsistent image input: " + images.size() + " image(s), strength "
                    + strength);
        }
    }

    /** The index into {@link #images()} of batch item {@code b}. */
    public int imageIndex(int b, int imagesPerPrompt) {
        return images.size() == 1 ? 0 : b / imagesPerPrompt;
    }
}
