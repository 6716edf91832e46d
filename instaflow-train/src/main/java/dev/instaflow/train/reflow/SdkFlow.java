package dev.instaflow.train.reflow;

import dev.instaflow.Device;
import dev.instaflow.LoadOptions;
import dev.instaflow.Precision;
import dev.instaflow.Sampler;
import dev.instaflow.engine.LatentFlow;
import dev.instaflow.engine.TorchModel;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.sampling.StepListener;
import dev.instaflow.train.data.PixelTensors;
import dev.instaflow.train.data.RgbImage;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.List;

/**
 * A trained bundle's flow, through the engine's supported entry point ({@link TorchModel#flow()}): the same
 * tokenizer, text encoder, guided velocity field and samplers {@code generate} runs, from noise the caller gives.
 * Reflow pairs, distillation targets and every evaluation come from here, so what is measured is what
 * {@code generate} computes; the caller keeps the latents (which {@code generate} would only decode). The model is
 * loaded and owned as any other ({@link TorchModel#load}: a failed load frees what it opened). Callers run it under
 * {@code NoGradGuard} and a {@code PointerScope}.
 */
public final class SdkFlow implements AutoCloseable {
    private final TorchModel model;
    private final LatentFlow flow;

    private SdkFlow(TorchModel model) {
        this.model = model;
        this.flow = model.flow();
    }

    /** Loads the bundle on the CPU in float32. */
    public static SdkFlow open(Path bundleDir) {
        return new SdkFlow(TorchModel.load(bundleDir, LoadOptions.builder().device(Device.cpu())
                .precision(Precision.FLOAT32).build()));
    }

    public BundleManifest manifest() {
        return flow.manifest();
    }

    /**
     * Samples from {@code noise} ({@code [B,C,h,w]}, one row per prompt); see {@link LatentFlow#sample}.
     *
     * @return the final latents {@code [B,C,h,w]}
     */
    public Tensor sample(List<String> prompts, Tensor noise, Sampler sampler, int stepCount, double guidance,
                         StepListener steps) {
        return flow.sample(prompts, noise, sampler, stepCount, guidance, steps);
    }

    /** Decodes latents to images exactly as {@code generate} does. */
    public List<RgbImage> decode(Tensor latents) {
        return PixelTensors.images(flow.decodeToRgb(latents));
    }

    @Override
    public void close() {
        model.close();
    }
}
