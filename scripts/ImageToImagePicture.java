import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.Device;
import dev.instaflow.train.data.Caption;
import dev.instaflow.train.data.CaptionReader;
import dev.instaflow.train.data.RgbImage;
import dev.instaflow.train.data.Scene;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes docs/img2img-default-model.png: image-to-image and inpainting on the built-in default model (its
 * vae_encoder is the exact patch inverse of its decoder). Row 1: the input "a red circle on a blue background",
 * then "a yellow square on a green background" from it at strengths 0.2 .. 1.0 (seed 3). Row 2: the mask (right
 * half repaints), then inpainting "a white triangle on a blue background" at strengths 0.4 .. 1.0 (the left half is
 * kept in the latents). Each image is shown 4x (nearest), with what the project's caption reader reads from it.
 *
 * java -cp CLASSPATH scripts/ImageToImagePicture.java MODEL_DIR OUT.png
 */
public class ImageToImagePicture {
    public static void main(String[] args) throws Exception {
        Path modelDir = Path.of(args[0]);
        Scene scene = new Scene(Caption.parse("a red circle on a blue background"), 13, 15, 16);
        BufferedImage input = RgbImage.of(scene, 32).toBufferedImage();
        BufferedImage mask = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = mask.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(16, 0, 16, 32);
        g.dispose();
        double[] strengths = {0.2, 0.4, 0.6, 0.8, 1.0};
        List<BufferedImage> top = new ArrayList<>(List.of(input));
        List<BufferedImage> bottom = new ArrayList<>(List.of(mask));
        try (InstaFlow model = InstaFlow.load(modelDir, LoadOptions.builder().device(Device.cpu()).build())) {
            for (double s : strengths) {
                Generation r = model.generate(GenerationRequest.builder()
                        .prompt("a yellow square on a green background").seed(3).initImage(input).strength(s)
                        .build());
                top.add(r.image());
                System.out.printf("img2img s=%.1f: %s%n", s, CaptionReader.read(RgbImage.of(r.image())));
            }
            bottom.add(null);
            for (double s : new double[] {0.4, 0.6, 0.8, 1.0}) {
                Generation r = model.generate(GenerationRequest.builder()
                        .prompt("a white triangle on a blue background").seed(3).initImage(input).mask(mask)
                        .strength(s).build());
                bottom.add(r.image());
                System.out.printf("inpaint s=%.1f: %s%n", s, CaptionReader.read(RgbImage.of(r.image())));
            }
        }
        int cell = 32 * 4;
        int gap = 8;
        int cols = top.size();
        BufferedImage out = new BufferedImage(cols * (cell + gap) - gap, 2 * cell + gap, BufferedImage.TYPE_INT_RGB);
        Graphics2D o = out.createGraphics();
        o.setColor(Color.WHITE);
        o.fillRect(0, 0, out.getWidth(), out.getHeight());
        for (int row = 0; row < 2; row++) {
            List<BufferedImage> images = row == 0 ? top : bottom;
            for (int c = 0; c < images.size(); c++) {
                if (images.get(c) != null) {
                    o.drawImage(images.get(c), c * (cell + gap), row * (cell + gap), cell, cell, null);
                }
            }
        }
        o.setColor(Color.GRAY);
        o.drawRect(0, cell + gap, cell - 1, cell - 1); // frame the mask: its white half meets the white page
        o.dispose();
        ImageIO.write(out, "png", Path.of(args[1]).toFile());
        System.out.println("wrote " + args[1]);
    }
}
