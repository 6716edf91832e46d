package dev.instaflow;

import java.nio.file.Path;
import java.util.Map;

/** A test model's {@link ModelInfo}, SD-1.5-shaped, with the few values the tests vary settable. */
final class ModelInfoFixture {
    private Device device = Device.cpu();
    private ModelInfo.Prediction prediction = ModelInfo.Prediction.VELOCITY;
    private int defaultSteps = 1;
    private double defaultGuidance = 0.0;
    private String defaultNegativePrompt = "";
    private boolean guidance = true;
    private boolean refiner;
    private boolean imageInput;

    ModelInfoFixture device(Device v) { device = v; return this; }
    ModelInfoFixture prediction(ModelInfo.Prediction v) { prediction = v; return this; }
    ModelInfoFixture defaultSteps(int v) { defaultSteps = v; return this; }
    ModelInfoFixture defaultGuidance(double v) { defaultGuidance = v; return this; }
    ModelInfoFixture defaultNegativePrompt(String v) { defaultNegativePrompt = v; return this; }
    ModelInfoFixture supportsGuidance(boolean v) { guidance = v; return this; }
    ModelInfoFixture hasRefiner(boolean v) { refiner = v; return this; }
    ModelInfoFixture supportsImageInput(boolean v) { imageInput = v; return this; }

    ModelInfo build() {
        return new ModelInfo(Path.of("m"), "test", "instaflow", prediction, device, Precision.FLOAT32,
                new ModelInfo.Defaults(512, 512, Sampler.euler(), defaultSteps, defaultGuidance, defaultNegativePrompt),
                new ModelInfo.Limits(64, 1024, 8, 100, 77), new ModelInfo.Features(guidance, refiner, imageInput),
                new ModelInfo.Latents(4, 8), Map.of("license", "test-licence"));
    }
}
