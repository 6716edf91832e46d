package dev.instaflow.samples.examples;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.defaultmodel.DefaultModel;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;

/**
 * The README's Java example, line for line (keep the two in step): the built-in default model from
 * {@link DefaultModel#path()}, one image with the model's defaults, then a seeded batch.
 *
 * <pre>java ... dev.instaflow.samples.examples.ReadmeExample [OUT_DIR]</pre>
 */
public final class ReadmeExample {
    public static void main(String[] args) throws IOException {
        File folder = new File(args.length > 0 ? args[0] : ".");
        try (InstaFlow model = InstaFlow.load(DefaultModel.path())) {               // or Path.of("models/instaflow-0.9b")
            BufferedImage circle = model.generate("a yellow circle on a blue background"); // the model's defaults, random seed
            Generation g = model.generate(GenerationRequest.builder()
                    .prompts("a red square on a white background", "a green triangle on a black background")
                    .imagesPerPrompt(2).seed(42)                                      // same seed, same images, any device
                    .build());                                                      // newCall(request).execute(listener): progress, cancel()
            ImageIO.write(g.images().get(0), "png", new File(folder, "square.png"));
            System.out.println("seed " + g.settings().seed().getAsLong() + ", " + g.timings()); // the seed used, per-stage times
            ImageIO.write(circle, "png", new File(folder, "circle.png"));
        }
    }
}
