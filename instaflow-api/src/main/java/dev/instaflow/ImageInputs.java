package dev.instaflow;


import java.awt.image.BufferedImage;
import java.util.Optional;

/** The image-input half of {@link RequestResolver}: init images, strength and mask checked against the model. */
final class ImageInputs {
    /** diffusers' default strength for image-to-image without a mask. */
    static final double DEFAULT_STRENGTH = 0.8;
    /** diffusers' default strength for inpainting. */
    static final double DEFAULT_MASKED_STRENGTH = 1.0;

    private ImageInputs() {
    }

    /** Checks the init image's size first, so the message names the image (images are never resized). */
    static void checkImageSize(GenerationRequest request, ModelInfo model) {
        if (request.initImages().isEmpty()) {
            return;
        }
        BufferedImage image = request.initImages().get(0);
        int m = model.limits().sizeMultiple();
        if (image.getWidth() % m != 0 || image.getHeight() % m != 0) {
            throw new IllegalArgumentException("the init image is " + image.getWidth() + "x" + image.getHeight()
                    + ", not a multiple of " + m + " in both sides (model '" + model.name() + "' needs multiples of "
                    + m + " pixels); images are not resized: crop or resize it, e.g. to "
                    + Math.max(m, image.getWidth() / m * m) + "x" + Math.max(m, image.getHeight() / m * m));
        }
    }

    static GenerationSettings resolve(GenerationRequest request, ModelInfo model, GenerationSettings settings) {
        if (request.initImages().isEmpty()) {
            return settings;
        }
        if (!model.features().imageInput()) {
            throw new IllegalArgumentException("model '" + model.name() + "' has no VAE encoder, so it cannot start"
                    + " from an init image: a bundle needs the optional part parts.vae_encoder (see"
                    + " docs/bundle-format.md); a diffusers snapshot has one in its vae component");
        }
        Optional<BufferedImage> mask = request.mask();
        double strength = request.strength().orElse(mask.isPresent() ? DEFAULT_MASKED_STRENGTH : DEFAULT_STRENGTH);
        if (model.prediction() == ModelInfo.Prediction.EPSILON && (strength < 1 || mask.isPresent())) {
            throw new IllegalArgumentException("model '" + model.name() + "' is a one-step epsilon (SwiftBrush-style)"
                    + " model: it maps pure noise at one fixed timestep to an image and defines no path to start"
                    + " from part-way, so it takes neither a strength below 1 nor a mask; got strength " + strength
                    + (mask.isPresent() ? " and a mask" : "") + " (use a rectified-flow model for image-to-image)");
        }
        return settings.withImage(new GenerationSettings.ImageInput(request.initImages(), strength, mask, request.keepUnmaskedPixels()));
    }
}
