package dev.instaflow;

import dev.instaflow.spi.GenerationPlan;

import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/** Fills a request's unset values from the model's defaults and checks every value against the model's limits. */
final class RequestResolver {
    private RequestResolver() {
    }

    static GenerationPlan resolve(GenerationRequest request, ModelInfo model) {
        ImageInputs.checkImageSize(request, model);
        Sampler sampler = request.sampler().orElse(model.defaultSampler());
        int steps = resolveSteps(request, model, sampler);

        double guidance = request.guidance().orElse(model.defaultGuidance());
        boolean guided = guidance > 1.0;
        if (guided && !model.supportsGuidance()) {
            throw new IllegalArgumentException("guidance " + guidance + " asks for classifier-free guidance, but model '"
                    + model.name() + "' (" + model.predictionType() + " prediction) does not support it;"
                    + " expected guidance <= 1");
        }
        String negative = guided ? request.negativePrompt().orElse(model.defaultNegativePrompt()) : "";

        int width = request.width().orElse(model.defaultWidth());
        int height = request.height().orElse(model.defaultHeight());
        checkSize("width", width, model);
        checkSize("height", height, model);

        long images = (long) request.prompts().size() * request.imagesPerPrompt(); // never overflows: int × int
        if (images > model.maxBatch()) {
            throw new IllegalArgumentException("batch of " + request.prompts().size() + " prompt(s) x "
                    + request.imagesPerPrompt() + " image(s) = " + images + " exceeds the model's limit of "
                    + model.maxBatch() + " images per call");
        }
        int batch = (int) images;

        Optional<LatentNoise> noise = request.noise();
        noise.ifPresent(n -> checkNoise(n, batch, width, height, model));
        long seed = request.seed().orElseGet(() -> ThreadLocalRandom.current().nextLong(1L << 32));

        GenerationPlan plan = new GenerationPlan(request.prompts(), negative, guided, guidance, seed, noise, width,
                height, request.imagesPerPrompt(), sampler, steps);
        return ImageInputs.resolve(request, model, plan);
    }

    private static int resolveSteps(GenerationRequest request, ModelInfo model, Sampler sampler) {
        int steps;
        if (sampler.fixedSteps().isPresent()) {
            steps = sampler.fixedSteps().getAsInt();
            if (request.steps().isPresent() && request.steps().getAsInt() != steps) {
                throw new IllegalArgumentException("steps " + request.steps().getAsInt() + " conflicts with sampler "
                        + sampler + ", whose schedule has " + steps + " steps; leave steps unset");
            }
        } else {
            steps = request.steps().orElse(model.defaultSteps());
        }
        if (steps > model.maxSteps()) {
            throw new IllegalArgumentException("steps " + steps + " exceeds the model's limit of " + model.maxSteps());
        }
        if (sampler.needsRefiner() && !model.hasRefiner()) {
            throw new IllegalArgumentException("sampler " + sampler + " has " + sampler.refinerSteps()
                    + " refiner step(s), but model '" + model.name() + "' has no refiner part;"
                    + " use a schedule without R steps or a bundle with parts.refiner");
        }
        if (model.predictionType() == PredictionType.EPSILON
                && (sampler.kind() != Sampler.Kind.EULER || steps != 1)) {
            throw new IllegalArgumentException("model '" + model.name() + "' is a one-step epsilon (SwiftBrush-style)"
                    + " model; expected sampler euler with 1 step, got " + sampler + " with " + steps + " step(s)");
        }
        return steps;
    }

    private static void checkSize(String field, int value, ModelInfo model) {
        if (value % model.sizeMultiple() != 0) {
            throw new IllegalArgumentException(field + " " + value + " is not a multiple of " + model.sizeMultiple()
                    + " (model '" + model.name() + "' needs multiples of " + model.sizeMultiple()
                    + " pixels: VAE factor " + model.vaeScaleFactor() + " times its denoiser's downsampling)");
        }
        if (value < model.sizeMultiple() || value > model.maxSize()) {
            throw new IllegalArgumentException(field + " " + value + " is outside the model's range "
                    + model.sizeMultiple() + ".." + model.maxSize());
        }
    }

    private static void checkNoise(LatentNoise noise, int batch, int width, int height, ModelInfo model) {
        long[] expected = {batch, model.latentChannels(), height / model.vaeScaleFactor(),
            width / model.vaeScaleFactor()};
        if (!java.util.Arrays.equals(noise.shape(), expected)) {
            throw new IllegalArgumentException("noise has shape " + java.util.Arrays.toString(noise.shape())
                    + " but this request needs " + java.util.Arrays.toString(expected)
                    + " ([batch, latent channels, height/" + model.vaeScaleFactor() + ", width/"
                    + model.vaeScaleFactor() + "])");
        }
    }
}
