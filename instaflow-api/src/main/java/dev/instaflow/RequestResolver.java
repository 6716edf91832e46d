package dev.instaflow;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;

/** Fills a request's unset values from the model's defaults and checks every value against the model's limits. */
final class RequestResolver {
    private RequestResolver() {
    }

    static GenerationSettings resolve(GenerationRequest request, ModelInfo model) {
        ImageInputs.checkImageSize(request, model);
        Sampler sampler = request.sampler().orElse(model.defaults().sampler());
        int steps = resolveSteps(request, model, sampler);

        double guidance = request.guidance().orElse(model.defaults().guidance());
        boolean guided = guidance > 1.0;
        if (guided && !model.features().guidance()) {
            throw new IllegalArgumentException("guidance " + guidance + " asks for classifier-free guidance, but model '"
                    + model.name() + "' (" + model.prediction() + " prediction) does not support it;"
                    + " expected guidance <= 1");
        }
        String negative = guided ? request.negativePrompt().orElse(model.defaults().negativePrompt()) : "";

        int width = request.width().orElse(model.defaults().width());
        int height = request.height().orElse(model.defaults().height());
        checkSize("width", width, model);
        checkSize("height", height, model);

        long images = (long) request.prompts().size() * request.imagesPerPrompt(); // never overflows: int × int
        if (images > model.limits().maxBatch()) {
            throw new IllegalArgumentException("batch of " + request.prompts().size() + " prompt(s) x "
                    + request.imagesPerPrompt() + " image(s) = " + images + " exceeds the model's limit of "
                    + model.limits().maxBatch() + " images per call");
        }
        int batch = (int) images;

        Optional<LatentNoise> noise = request.noise();
        noise.ifPresent(n -> checkNoise(n, batch, width, height, model));
        long seed = request.seed().orElseGet(() -> ThreadLocalRandom.current().nextLong(1L << 32)); // < 2^32: also a valid numpy seed

        GenerationSettings settings = new GenerationSettings(request.prompts(), negative, guided, guidance,
                noise.isPresent() ? OptionalLong.empty() : OptionalLong.of(seed), noise, width, height,
                request.imagesPerPrompt(), sampler, steps, Optional.empty());
        return ImageInputs.resolve(request, model, settings);
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
            steps = request.steps().orElse(model.defaults().steps());
        }
        if (steps > model.limits().maxSteps()) {
            throw new IllegalArgumentException("steps " + steps + " exceeds the model's limit of "
                    + model.limits().maxSteps());
        }
        if (sampler instanceof Sampler.FlowTurbo turbo && turbo.refinerSteps() > 0 && !model.features().refiner()) {
            throw new IllegalArgumentException("sampler " + sampler + " has " + turbo.refinerSteps()
                    + " refiner step(s), but model '" + model.name() + "' has no refiner part;"
                    + " use a schedule without R steps or a bundle with parts.refiner");
        }
        if (model.prediction() == ModelInfo.Prediction.EPSILON
                && (!(sampler instanceof Sampler.Euler) || steps != 1)) {
            throw new IllegalArgumentException("model '" + model.name() + "' is a one-step epsilon (SwiftBrush-style)"
                    + " model; expected sampler euler with 1 step, got " + sampler + " with " + steps + " step(s)");
        }
        return steps;
    }

    private static void checkSize(String field, int value, ModelInfo model) {
        if (value % model.limits().sizeMultiple() != 0) {
            throw new IllegalArgumentException(field + " " + value + " is not a multiple of " + model.limits().sizeMultiple()
                    + " (model '" + model.name() + "' needs multiples of " + model.limits().sizeMultiple()
                    + " pixels: VAE factor " + model.latents().scaleFactor() + " times its denoiser's downsampling)");
        }
        if (value < model.limits().sizeMultiple() || value > model.limits().maxSize()) {
            throw new IllegalArgumentException(field + " " + value + " is outside the model's range "
                    + model.limits().sizeMultiple() + ".." + model.limits().maxSize());
        }
    }

    private static void checkNoise(LatentNoise noise, int batch, int width, int height, ModelInfo model) {
        long[] expected = {batch, model.latents().channels(), height / model.latents().scaleFactor(),
            width / model.latents().scaleFactor()};
        if (!java.util.Arrays.equals(noise.shape(), expected)) {
            throw new IllegalArgumentException("noise has shape " + java.util.Arrays.toString(noise.shape())
                    + " but this request needs " + java.util.Arrays.toString(expected)
                    + " ([batch, latent channels, height/" + model.latents().scaleFactor() + ", width/"
                    + model.latents().scaleFactor() + "])");
        }
    }
}
