package dev.instaflow.samples.cli;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.ModelInfo;
import dev.instaflow.Generation.PromptTokens;
import dev.instaflow.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code instaflow generate}: prompts to PNG files. */
@Command(name = "generate", sortOptions = false,
        header = "Generates images from prompts and writes PNG files.",
        description = {"Unset values take the model's defaults from its manifest. One image is written to --out exactly;"
                    + " several (more prompts or --num-images) to NAME-0.png, NAME-1.png, ... in batch order,"
                    + " each prompt's images consecutive."})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--prompt", paramLabel = "TEXT", required = true,
            description = "Prompt; repeat the flag for several prompts in one batch.")
    List<String> prompts;

    @Option(names = "--negative-prompt", paramLabel = "TEXT",
            description = "Negative prompt (used only when guidance is above 1).")
    String negativePrompt;

    @Option(names = "--seed", paramLabel = "N", converter = Converters.SeedConverter.class,
            description = "Noise seed (torch.manual_seed semantics). Default: random, printed.")
    Long seed;

    @Option(names = "--steps", paramLabel = "N", description = "Sampler steps.")
    Integer steps;

    @Option(names = "--guidance", paramLabel = "X", description = "Classifier-free guidance scale (on above 1).")
    Double guidance;

    @Option(names = "--width", paramLabel = "N", description = "Image width in pixels.")
    Integer width;

    @Option(names = "--height", paramLabel = "N", description = "Image height in pixels.")
    Integer height;

    @Option(names = "--num-images", paramLabel = "N", defaultValue = "1",
            description = "Images per prompt. Default: ${DEFAULT-VALUE}.")
    int imagesPerPrompt;

    @Option(names = "--sampler", paramLabel = "euler|heun|flowturbo:H1P5R3",
            converter = Converters.SamplerConverter.class, description = "Sampler.")
    Sampler sampler;

    @Option(names = "--init-image", paramLabel = "FILE",
            description = "Start from this image (image-to-image; with --mask inpainting). Its size is the output size;"
                    + " it must be a multiple of the model's size multiple (no resizing). Needs a model with a VAE"
                    + " encoder (snapshots have one; bundles need parts.vae_encoder).")
    Path initImage;

    @Option(names = "--strength", paramLabel = "S",
            description = "With --init-image: strength in (0, 1], 1 = from pure noise. Default: 0.8, or 1 with --mask.")
    Double strength;

    @Option(names = "--mask", paramLabel = "FILE",
            description = "With --init-image: inpainting mask of the same size, white = repaint, black = keep.")
    Path mask;

    @Option(names = "--keep-unmasked",
            description = "With --mask: paste the init image's pixels outside the mask into the output.")
    boolean keepUnmasked;

    @Mixin
    DeviceOptions deviceOptions;

    @Option(names = "--out", paramLabel = "FILE.png", required = true, description = "Output PNG file.")
    Path out;

    @Option(names = "--json", description = "Print one JSON object describing the run on stdout.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        // Values wrong whatever the model fail here, before a model is loaded.
        GenerationRequest request = request();
        List<Path> files = PngFiles.names(out, prompts.size() * imagesPerPrompt);
        Path modelDirectory = modelOptions.directory(stderr);

        long loadStart = System.nanoTime();
        deviceOptions.configureRuntime();
        TerminalProgress progress = TerminalProgress.start("generate", -1, json);
        try (progress; InstaFlow model = InstaFlow.load(modelDirectory,
                modelOptions.apply(deviceOptions.loadOptions()))) {
            double loadMillis = (System.nanoTime() - loadStart) / 1e6;
            ModelInfo info = model.info();
            progress.note("loaded " + info.name());
            Generation generation = model.newCall(request).execute(progress.generation());

            long writeStart = System.nanoTime();
            progress.note("writing " + files.size() + " PNG file(s)");
            PngFiles.write(generation.images(), files, out);
            double writeMillis = (System.nanoTime() - writeStart) / 1e6;
            progress.close(); // clears the bar before anything else is printed

            warnAboutTruncation(generation, info, stderr);
            warnAboutUnusedNegativePrompt(generation, info, stderr);
            GenerationReport report = new GenerationReport(info, generation, imagesPerPrompt, files, loadMillis,
                    writeMillis);
            if (json) {
                stdout.println(report.toJson());
            } else {
                stdout.print(report.summary());
            }
            stdout.flush();
        }
        return 0;
    }

    private GenerationRequest request() {
        GenerationRequest.Builder b = GenerationRequest.builder().prompts(prompts).imagesPerPrompt(imagesPerPrompt);
        if (negativePrompt != null) {
            b.negativePrompt(negativePrompt);
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (steps != null) {
            b.steps(steps);
        }
        if (guidance != null) {
            b.guidance(guidance);
        }
        if (width != null) {
            b.width(width);
        }
        if (height != null) {
            b.height(height);
        }
        if (sampler != null) {
            b.sampler(sampler);
        }
        if (initImage != null) {
            b.initImage(readImage(initImage, "--init-image"));
        }
        if (strength != null) {
            b.strength(strength);
        }
        if (mask != null) {
            b.mask(readImage(mask, "--mask"));
        }
        if (keepUnmasked) {
            b.keepUnmaskedPixels(true);
        }
        return b.build();
    }

    private static BufferedImage readImage(Path file, String option) {
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + file + " cannot be read: " + e.getMessage(), e);
        }
        if (image == null) {
            throw new IllegalArgumentException(option + " " + file + " is not an image this JVM can read (PNG, JPEG,"
                    + " BMP, GIF)");
        }
        return image;
    }

    /** A --negative-prompt the run did not use (guidance 1 or below, or a model without guidance) is said so. */
    private void warnAboutUnusedNegativePrompt(Generation generation, ModelInfo info, PrintWriter stderr) {
        if (negativePrompt == null || generation.settings().guided()) {
            return;
        }
        String why = info.features().guidance()
                ? "guidance " + generation.settings().guidance() + " is not above 1 (guidance runs, and reads the negative"
                        + " prompt, only above 1: try --guidance 1.5)"
                : "model '" + info.name() + "' does not use classifier-free guidance";
        stderr.println("warning: --negative-prompt was ignored: " + why);
        stderr.flush();
    }

    private static void warnAboutTruncation(Generation generation, ModelInfo info, PrintWriter stderr) {
        List<PromptTokens> tokens = generation.prompts();
        for (int i = 0; i < tokens.size(); i++) {
            PromptTokens p = tokens.get(i);
            if (p.truncated()) {
                stderr.println("warning: prompt " + (i + 1) + " has " + p.tokenCount() + " tokens; model '"
                        + info.name() + "' reads " + p.keptTokens() + " (a " + info.limits().maxTokens()
                        + "-token window), the rest was ignored");
            }
        }
        stderr.flush();
    }
}
