package dev.instaflow.train.reflow;

import dev.instaflow.Device;
import dev.instaflow.Precision;
import dev.instaflow.Sampler;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.decode.LatentDecoder;
import dev.instaflow.engine.decode.VaeDecoder;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.sampling.Denoiser;
import dev.instaflow.engine.sampling.FlowSampler;
import dev.instaflow.engine.sampling.FlowSamplers;
import dev.instaflow.engine.sampling.GuidedVelocityField;
import dev.instaflow.engine.sampling.SamplingContext;
import dev.instaflow.engine.sampling.StepListener;
import dev.instaflow.engine.text.ClipTokenizer;
import dev.instaflow.engine.text.Conditioning;
import dev.instaflow.engine.text.TextConditioner;
import dev.instaflow.engine.text.TextEncoder;
import dev.instaflow.engine.text.TokenizedBatch;
import dev.instaflow.train.data.PixelTensors;
import dev.instaflow.train.data.RgbImage;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A bundle's flow run through the SDK's own parts: its tokenizer, text encoder, guided velocity field
 * ({@link GuidedVelocityField}: classifier-free guidance exactly as {@code generate} does it) and sampler
 * ({@link FlowSamplers}), from noise the caller gives. Reflow pairs, distillation targets and every evaluation
 * come from here, so what is measured is what {@code generate} computes; the caller keeps the latents (which
 * {@code generate} would only decode). Callers run it under {@code NoGradGuard} and a {@code PointerScope}.
 */
public final class SdkFlow implements AutoCloseable {
    private final BundleManifest manifest;
    private final DeviceContext device;
    private final ClipTokenizer tokenizer;
    private final TextEncoder textEncoder;
    private final Denoiser denoiser;
    private final VaeDecoder vae;
    private final TextConditioner conditioner;
    private final LatentDecoder decoder;

    private SdkFlow(BundleManifest manifest, DeviceContext device, ClipTokenizer tokenizer, TextEncoder textEncoder,
                    Denoiser denoiser, VaeDecoder vae) {
        this.manifest = manifest;
        this.device = device;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.denoiser = denoiser;
        this.vae = vae;
        this.conditioner = new TextConditioner(tokenizer, textEncoder);
        this.decoder = new LatentDecoder(vae, manifest.latent().scalingFactor());
    }

    /** Loads the bundle's parts on the CPU in float32. */
    public static SdkFlow open(Path bundleDir) {
        Bundle bundle = Bundle.open(bundleDir);
        DeviceContext device = DeviceContext.open(Optional.of(Device.cpu()), Precision.FLOAT32);
        ClipTokenizer tokenizer = ClipTokenizer.load(bundle.tokenizer(), bundle.manifest().text());
        return new SdkFlow(bundle.manifest(), device, tokenizer, TextEncoder.load(bundle, device),
                Denoiser.load(bundle, device), VaeDecoder.load(bundle, device));
    }

    public BundleManifest manifest() {
        return manifest;
    }

    /**
     * Samples from {@code noise} ({@code [B,C,h,w]}, one row per prompt).
     *
     * @param guidance classifier-free guidance scale; guidance runs above 1 with the empty negative prompt, as
     *                 {@code generate} does
     * @param steps    told the latents after each step
     * @return the final latents {@code [B,C,h,w]}
     */
    public Tensor sample(List<String> prompts, Tensor noise, Sampler sampler, int stepCount, double guidance,
                         StepListener steps) {
        boolean guided = guidance > 1.0;
        TokenizedBatch tokens = conditioner.tokenize(prompts,
                guided ? List.of(manifest.sampling().negativePrompt()) : List.of());
        int[] ones = new int[prompts.size()];
        java.util.Arrays.fill(ones, 1);
        Conditioning condition = conditioner.encode(tokens, ones, guided ? new int[] {prompts.size()} : new int[0],
                guided, guidance, PipelineTrace.NONE);
        GuidedVelocityField field = new GuidedVelocityField(denoiser, condition, device, PipelineTrace.NONE);
        FlowSampler flow = FlowSamplers.create(sampler);
        return flow.sample(noise, new SamplingContext(field, Optional.empty(), stepCount,
                manifest.prediction().probeTimestep(), device, steps, PipelineTrace.NONE)).latents();
    }

    /** Decodes latents to images exactly as {@code generate} does. */
    public List<RgbImage> decode(Tensor latents) {
        return PixelTensors.images(decoder.toRgb(latents, PipelineTrace.NONE));
    }

    @Override
    public void close() {
        vae.close();
        denoiser.close();
        textEncoder.close();
        tokenizer.close();
        device.close();
    }
}
