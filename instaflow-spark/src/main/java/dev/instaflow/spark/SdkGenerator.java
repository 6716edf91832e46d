package dev.instaflow.spark;

import dev.instaflow.Device;
import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one place this module touches the SDK: load a model, generate one image for one row, encode it as PNG. Every
 * other class goes through here, so an SDK API change is adapted in this file only.
 *
 * <p>Thread-safe: the SDK's {@code generate} may be called from several threads at once (Spark runs several tasks
 * of one executor JVM on one model).
 */
public final class SdkGenerator implements AutoCloseable {
    /** Images generated in this JVM (every call of {@link #generate}); tests read it to count work. */
    static final AtomicLong GENERATED = new AtomicLong();

    private final InstaFlow model;

    private SdkGenerator(InstaFlow model) {
        this.model = model;
    }

    /**
     * Loads the model at {@code model} on {@code device} ({@code auto}, {@code cpu}, {@code cuda}, {@code cuda:N}),
     * without a warm-up run (Spark pays the load once per executor; a warm-up would only add to it).
     */
    public static SdkGenerator load(Path model, String device) {
        LoadOptions.Builder options = LoadOptions.builder().warmUp(false);
        if (!device.trim().equalsIgnoreCase("auto")) { // auto: leave the choice to the load (CUDA if usable)
            options.device(Device.parse(device));
        }
        return new SdkGenerator(InstaFlow.load(model, options.build()));
    }

    /** One row's image. {@code null} settings take the model's defaults. */
    public Image generate(String prompt, String negativePrompt, long seed, Integer steps, Double guidance,
                          Integer width, Integer height) {
        GenerationRequest.Builder request = GenerationRequest.builder().prompt(prompt).seed(seed);
        if (negativePrompt != null) {
            request.negativePrompt(negativePrompt);
        }
        if (steps != null) {
            request.steps(steps);
        }
        if (guidance != null) {
            request.guidance(guidance);
        }
        if (width != null || height != null) {
            if (width == null || height == null) {
                throw new IllegalArgumentException("width and height must be given together (got width " + width
                        + ", height " + height + ")");
            }
            request.size(width, height);
        }
        Generation generation = model.generate(request.build());
        GENERATED.incrementAndGet();
        BufferedImage image = generation.images().get(0);
        return new Image(png(image), generation.settings().seed().orElse(seed), image.getWidth(), image.getHeight(),
                generation.timings().toMillis());
    }

    private static byte[] png(BufferedImage image) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, "png", bytes)) {
                throw new IllegalStateException("no PNG writer for a " + image.getType() + " image");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public void close() {
        model.close();
    }

    /**
     * One generated image.
     *
     * @param png      the PNG file's bytes
     * @param seed     the seed used
     * @param timingsMs milliseconds per stage ({@code text_encoder}, ..., {@code total})
     */
    public record Image(byte[] png, long seed, int width, int height, Map<String, Double> timingsMs) {
    }
}
