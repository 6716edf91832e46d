package dev.instaflow.samples.examples;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.GenerationSettings;
import dev.instaflow.InstaFlow;
import dev.instaflow.Generation.PromptTokens;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Several prompts, several images each, in one batch with a fixed seed, and what {@link Generation} reports: the
 * seed and settings used ({@link Generation#settings()}, enough to reproduce every image), how each prompt was tokenized, and timings per stage.
 *
 * <pre>java ... dev.instaflow.samples.examples.BatchGeneration MODEL_DIR [OUT_DIR]</pre>
 */
public final class BatchGeneration {
    public static void main(String[] args) throws IOException {
        Path modelDir = Path.of(args[0]);
        Path outDir = Files.createDirectories(Path.of(args.length > 1 ? args[1] : "batch"));
        List<String> prompts = List.of("a lighthouse at dusk", "a bowl of ramen, studio photo");
        int imagesPerPrompt = 2;

        try (InstaFlow model = InstaFlow.load(modelDir)) {
            Generation g = model.generate(GenerationRequest.builder()
                    .prompts(prompts)
                    .imagesPerPrompt(imagesPerPrompt)
                    .seed(42)
                    .build());

            // Images come in batch order: prompt 0's images, then prompt 1's.
            for (int i = 0; i < g.images().size(); i++) {
                Path file = outDir.resolve("prompt" + (i / imagesPerPrompt) + "-image" + (i % imagesPerPrompt) + ".png");
                ImageIO.write(g.images().get(i), "png", file.toFile());
                System.out.println("wrote " + file);
            }
            GenerationSettings used = g.settings();             // the resolved request: model defaults filled in
            System.out.printf("seed %d, %dx%d, %s, %d step(s), guidance %.1f, %d denoiser call(s)%n",
                    used.seed().getAsLong(), used.width(), used.height(), used.sampler(), used.steps(),
                    used.guidance(), g.denoiserEvaluations());
            for (PromptTokens p : g.prompts()) {
                System.out.printf("\"%s\": %d tokens%s%n", p.text(), p.tokenCount(),
                        p.truncated() ? " (truncated to " + p.keptTokens() + ")" : "");
            }
            g.timings().toMillis().forEach((stage, ms) -> System.out.printf("%-12s %8.1f ms%n", stage, ms));
        }
    }
}
