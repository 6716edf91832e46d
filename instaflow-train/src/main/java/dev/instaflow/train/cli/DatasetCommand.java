package dev.instaflow.train.cli;

import dev.instaflow.train.data.Caption;
import dev.instaflow.train.data.CaptionSplit;
import dev.instaflow.train.data.RgbImage;
import dev.instaflow.train.data.Scene;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/** {@code train dataset}: writes sample images of the dataset with their captions, to look at. */
@Command(name = "dataset", mixinStandardHelpOptions = true,
        description = "Write images of the procedural shapes dataset (PNG) and captions.tsv (file, caption, split).")
final class DatasetCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "Folder to write (created).")
    Path out;

    @Option(names = "--count", defaultValue = "90", description = "Images (default ${DEFAULT-VALUE}: one per"
            + " caption when 90).")
    int count;

    @Option(names = "--size", defaultValue = "32", description = "Image side in pixels (default ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Override
    public Integer call() throws IOException {
        Files.createDirectories(out);
        SplittableRandom random = new SplittableRandom(seed);
        List<Caption> all = Caption.all();
        StringBuilder tsv = new StringBuilder("file\tcaption\tsplit\n");
        for (int i = 0; i < count; i++) {
            Caption caption = all.get(i % all.size());
            String name = String.format(Locale.ROOT, "%05d.png", i);
            ImageIO.write(RgbImage.of(Scene.random(caption, size, random), size).toBufferedImage(), "png",
                    out.resolve(name).toFile());
            tsv.append(name).append('\t').append(caption.text()).append('\t')
                    .append(CaptionSplit.isHeldOut(caption) ? "held-out" : "train").append('\n');
        }
        Files.writeString(out.resolve("captions.tsv"), tsv.toString(), StandardCharsets.UTF_8);
        System.out.println("wrote " + count + " images and captions.tsv to " + out);
        return 0;
    }
}
