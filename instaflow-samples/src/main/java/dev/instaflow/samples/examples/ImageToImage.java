package dev.instaflow.samples.examples;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.ModelInfo;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Image-to-image and inpainting: start from a picture instead of pure noise. The picture (read from IMAGE, or
 * drawn here when none is given) is encoded by the model's VAE encoder; strength s starts the flow at
 * {@code t0 = s * 1000} from {@code s * noise + (1 - s) * latent}, so a small s stays close to the picture. A mask
 * (white = repaint, black = keep) repaints only part of it.
 *
 * <pre>java ... dev.instaflow.samples.examples.ImageToImage MODEL_DIR [OUT_DIR] [IMAGE]</pre>
 *
 * The model needs a VAE encoder ({@link ModelInfo.Features#imageInput()}): a diffusers snapshot has one; a bundle
 * needs {@code parts.vae_encoder}. The image must be a multiple of the model's size multiple (it is not resized).
 */
public final class ImageToImage {
    public static void main(String[] args) throws IOException {
        Path modelDir = Path.of(args[0]);
        Path outDir = Files.createDirectories(Path.of(args.length > 1 ? args[1] : "img2img"));

        try (InstaFlow model = InstaFlow.load(modelDir)) {
            ModelInfo info = model.info();
            if (!info.features().imageInput()) {
                System.out.println(info.name() + " has no VAE encoder; image inputs need one");
                return;
            }
            BufferedImage picture = args.length > 2 ? ImageIO.read(Path.of(args[2]).toFile())
                    : drawn(info.defaults().width(), info.defaults().height());

            // Image-to-image: the same prompt and seed at three strengths.
            for (double strength : new double[] {0.3, 0.6, 1.0}) {
                Generation g = model.generate(GenerationRequest.builder()
                        .prompt("a watercolor painting of a house on a hill")
                        .seed(7)
                        .initImage(picture)          // its size becomes the output size
                        .strength(strength)
                        .build());
                Path file = outDir.resolve("strength-" + strength + ".png");
                ImageIO.write(g.image(), "png", file.toFile());
                System.out.printf("wrote %s (strength %.1f, %d denoiser call(s))%n", file,
                        g.settings().strength(), g.denoiserEvaluations());
            }

            // Inpainting: repaint the sky (top half), keep the rest, and paste the original pixels back outside it.
            BufferedImage mask = new BufferedImage(picture.getWidth(), picture.getHeight(), BufferedImage.TYPE_INT_RGB);
            Graphics2D g2 = mask.createGraphics();
            g2.setColor(Color.WHITE);
            g2.fillRect(0, 0, picture.getWidth(), picture.getHeight() / 2);
            g2.dispose();
            Generation inpainted = model.generate(GenerationRequest.builder()
                    .prompt("a stormy sky")
                    .seed(7)
                    .initImage(picture)
                    .mask(mask)                      // strength defaults to 1 with a mask
                    .keepUnmaskedPixels(true)
                    .build());
            Path file = outDir.resolve("inpainted.png");
            ImageIO.write(inpainted.image(), "png", file.toFile());
            System.out.printf("wrote %s (strength %.1f, masked %b)%n", file, inpainted.settings().strength(),
                    inpainted.settings().masked());
        }
    }

    /** A simple picture: sky, a hill, a house. */
    static BufferedImage drawn(int width, int height) {
        BufferedImage im = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = im.createGraphics();
        g.setColor(new Color(120, 170, 230));
        g.fillRect(0, 0, width, height);
        g.setColor(new Color(70, 140, 60));
        g.fillOval(-width / 4, height / 2, width * 3 / 2, height);
        g.setColor(new Color(200, 60, 50));
        g.fillRect(width * 2 / 5, height * 2 / 5, width / 5, height / 5);
        g.dispose();
        return im;
    }
}
