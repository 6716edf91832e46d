package dev.instaflow.engine;

import dev.instaflow.Sampler;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.Prediction;
import dev.instaflow.engine.decode.LatentDecoder;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.sampling.Denoiser;
import dev.instaflow.engine.sampling.FlowSamplers;
import dev.instaflow.engine.sampling.GuidedVelocityField;
import dev.instaflow.engine.sampling.SamplingContext;
import dev.instaflow.engine.sampling.StepListener;
import dev.instaflow.engine.text.Conditioning;
import dev.instaflow.engine.text.TextConditioner;
import dev.instaflow.engine.text.TokenizedBatch;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A loaded model's flow at the tensor level: the engine's supported entry point for tools that need latents rather
 * than images (the recipe's reflow pairs and distillation targets, evaluations). It runs the very stages
 * {@code generate} runs (tokenizer, text encoder, classifier-free guidance, the samplers, the decoder), so what a
 * tool measures is what users get; it owns nothing ({@link TorchModel} does). Callers run it inside their own
 * {@code PointerScope} and inference mode or {@code NoGradGuard}; tensors live on {@link #device()}.
 */
@EntryPoint("latents rather than images: training's reflow pairs and evaluation")
public final class LatentFlow {
    private final BundleManifest manifest;
    private final DeviceContext device;
    private final TextConditioner conditioner;
    private final Denoiser denoiser;
    private final LatentDecoder decoder;

    LatentFlow(BundleManifest manifest, DeviceContext device, TextConditioner conditioner, Denoiser denoiser,
               LatentDecoder decoder) {
        this.manifest = manifest;
        this.device = device;
        this.conditioner = conditioner;
        this.denoiser = denoiser;
        this.decoder = decoder;
    }

    /** The model's manifest (a snapshot's derived one): its latent geometry, defaults and prediction. */
    public BundleManifest manifest() {
        return manifest;
    }

    public DeviceContext device() {
        return device;
    }

    /**
     * Samples from {@code noise} ({@code [B, C, h, w]}, one row per prompt) with the model's velocity field.
     *
     * @param guidance classifier-free guidance scale; guidance runs above 1 with the model's default negative
     *                 prompt, as {@code generate} does
     * @param listener told the latents after each step
     * @return the final latents {@code [B, C, h, w]}
     * @throws IllegalStateException for a one-step epsilon model, which has no flow to integrate
     */
    public Tensor sample(List<String> prompts, Tensor noise, Sampler sampler, int steps, double guidance,
                         StepListener listener) {
        if (!(manifest.prediction() instanceof Prediction.Velocity velocity)) {
            throw new IllegalStateException("model '" + manifest.name() + "' predicts " + manifest.prediction().type()
                    + ", not a velocity: it has no flow to sample (expected a rectified-flow model)");
        }
        boolean guided = guidance > 1.0;
        TokenizedBatch tokens = conditioner.tokenize(prompts,
                guided ? List.of(manifest.sampling().negativePrompt()) : List.of());
        int[] one = new int[prompts.size()];
        Arrays.fill(one, 1);
        Conditioning condition = conditioner.encode(tokens, one, guided ? new int[] {prompts.size()} : new int[0],
                guided, guidance, PipelineTrace.NONE);
        GuidedVelocityField field = new GuidedVelocityField(denoiser, condition, device, PipelineTrace.NONE);
        return FlowSamplers.create(sampler).sample(noise, new SamplingContext(field, Optional.empty(), steps,
                velocity.timeScale(), device, listener, PipelineTrace.NONE)).latents();
    }

    /** Decodes latents exactly as {@code generate} does, to uint8 RGB {@code [B, H, W, 3]} on the device. */
    public Tensor decodeToRgb(Tensor latents) {
        return decoder.toRgb(latents, PipelineTrace.NONE);
    }
}
