package dev.instaflow.samples.examples;

import dev.instaflow.InstaFlow;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The shortest program: load a bundle, generate one image with the model's defaults, write it as a PNG.
 *
 * <pre>java ... dev.instaflow.samples.examples.QuickStart MODEL_DIR [OUT.png]</pre>
 */
public final class QuickStart {
    public static void main(String[] args) throws IOException {
        Path modelDir = Path.of(args[0]);
        File out = new File(args.length > 1 ? args[1] : "fox.png");
        try (InstaFlow model = InstaFlow.load(modelDir)) {
            BufferedImage image = model.generate("a red fox in the snow, photograph");
            ImageIO.write(image, "png", out);
        }
        System.out.println("wrote " + out);
    }
}
