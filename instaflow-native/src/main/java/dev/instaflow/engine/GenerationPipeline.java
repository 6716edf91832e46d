package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.GenerationCancelledException;
import dev.instaflow.InferenceException;
import dev.instaflow.InstaFlowException;
import dev.instaflow.Progress;
import dev.instaflow.GenerationSettings;
import dev.instaflow.spi.Engine;
import dev.instaflow.Progress.Stage;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.Prediction;
import dev.instaflow.engine.decode.ImageConverter;
import dev.instaflow.engine.decode.ImageEncoder;
import dev.instaflow.engine.decode.LatentDecoder;
import dev.instaflow.engine.noise.NoiseSource;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.DeviceExecution;
import dev.instaflow.engine.runtime.FiniteCheck;
import dev.instaflow.engine.runtime.MemoryEstimate;
import dev.instaflow.engine.runtime.NativeErrors;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.sampling.Denoiser;
import dev.instaflow.engine.sampling.EpsilonOneStep;
import dev.instaflow.engine.sampling.FlowSampler;
import dev.instaflow.engine.sampling.FlowSamplers;
import dev.instaflow.engine.sampling.GuidedVelocityField;
import dev.instaflow.engine.sampling.LatentConstraint;
import dev.instaflow.engine.sampling.SamplingContext;
import dev.instaflow.engine.sampling.StepListener;
import dev.instaflow.engine.sampling.VelocityRefiner;
import dev.instaflow.engine.text.Conditioning;
import dev.instaflow.engine.text.TextConditioner;
import dev.instaflow.engine.text.TokenizedBatch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One generation as a pipe: tokenize, encode the text, draw the noise, sample, decode, copy to images. A batch of
 * several requests' settings (pairwise {@link GenerationSettings#canBatchWith batchable}) goes through each network
 * once, each request keeping its prompts, negative prompt and seed or noise. Runs on the caller's thread under LibTorch's inference mode, inside one {@link PointerScope} that frees every tensor the call
 * made, whether it returns, is cancelled or fails, and inside one {@link DeviceExecution} (on a GPU: the call's own
 * stream, asynchronous transfers, one synchronisation before the pixels are read). Holds no per-call state, so
 * calls may overlap.
 */
final class GenerationPipeline {
    private final BundleManifest manifest;
    private final DeviceContext device;
    private final TextConditioner conditioner;
    private final Denoiser denoiser;
    private final Optional<VelocityRefiner> refiner;
    private final LatentDecoder decoder;
    private final Optional<ImageEncoder> encoder;

    GenerationPipeline(BundleManifest manifest, DeviceContext device, TextConditioner conditioner, Denoiser denoiser,
                       Optional<VelocityRefiner> refiner, LatentDecoder decoder) {
        this(manifest, device, conditioner, denoiser, refiner, decoder, Optional.empty());
    }

    GenerationPipeline(BundleManifest manifest, DeviceContext device, TextConditioner conditioner, Denoiser denoiser,
                       Optional<VelocityRefiner> refiner, LatentDecoder decoder, Optional<ImageEncoder> encoder) {
        this.encoder = encoder;
        this.manifest = manifest;
        this.device = device;
        this.conditioner = conditioner;
        this.denoiser = denoiser;
        this.refiner = refiner;
        this.decoder = decoder;
    }

    List<Generation> run(List<GenerationSettings> batch, Engine.Monitor monitor, PipelineTrace trace) {
        GenerationSettings plan = batch.get(0); // what the batch shares: size, sampler, steps, guidance
        int images = batch.stream().mapToInt(GenerationSettings::batchSize).sum();
        // Before any work: a size the manifest admits may still need more memory than there is.
        MemoryEstimate.check(images, plan.guided(), plan.width(), plan.height(),
                manifest.latent().vaeScaleFactor(), device.precision(), device.isCuda());
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             DeviceExecution execution = device.begin()) {
            FiniteCheck finite = new FiniteCheck();
            checkCancel(monitor, new Progress(Stage.TOKENIZE, 0, plan.steps()));
            List<String> prompts = new ArrayList<>();
            List<String> negatives = new ArrayList<>();
            int[] imagesPerPrompt = new int[batch.stream().mapToInt(g -> g.prompts().size()).sum()];
            int[] imagesPerNegative = new int[plan.guided() ? batch.size() : 0];
            for (int r = 0; r < batch.size(); r++) {
                GenerationSettings g = batch.get(r);
                for (String prompt : g.prompts()) {
                    imagesPerPrompt[prompts.size()] = g.imagesPerPrompt();
                    prompts.add(prompt);
                }
                if (plan.guided()) {
                    negatives.add(g.negativePrompt());
                    imagesPerNegative[r] = g.batchSize();
                }
            }
            TokenizedBatch tokens = conditioner.tokenize(prompts, negatives);
            execution.lap(Stage.TOKENIZE);
            checkCancel(monitor, new Progress(Stage.TOKENIZE, 0, plan.steps()));

            Conditioning condition = conditioner.encode(tokens, imagesPerPrompt, imagesPerNegative, plan.guided(),
                    plan.guidance(), trace);
            finite.record("the text embeddings (the text encoder's output)", condition.text());
            execution.lap(Stage.TEXT_ENCODER);
            report(monitor, new Progress(Stage.TEXT_ENCODER, 0, plan.steps()));

            Tensor noise = device.upload(hostNoise(batch));
            if (trace.enabled()) {
                trace.record("initial_noise", noise);
            }
            // Image inputs (never batched with others): x_init from the VAE encoder, the start point at strength s,
            // the mask blend (timed as noise).
            ImageStart start = ImageStart.prepare(plan, noise, encoder, manifest.latent().vaeScaleFactor(), device,
                    trace);
            execution.lap(Stage.NOISE);

            StepListener steps = (step, total, latents) -> {
                if (trace.enabled()) {
                    trace.record("latents_after_step" + step, latents);
                }
                finite.record("the latents after denoise step " + (step + 1) + "/" + total, latents);
                report(monitor, new Progress(Stage.DENOISE, step + 1, total));
            };
            Tensor latents;
            int denoiserEvaluations;
            int refinerEvaluations = 0;
            if (manifest.prediction() instanceof Prediction.Velocity velocity) {
                GuidedVelocityField field = new GuidedVelocityField(denoiser, condition, device, trace);
                FlowSampler sampler = FlowSamplers.create(plan.sampler());
                FlowSampler.Result result = sampler.sample(start.latents(), new SamplingContext(field, refiner,
                        plan.steps(), velocity.timeScale(), device, steps, trace, start.strength(),
                        start.constraint()));
                latents = result.latents();
                denoiserEvaluations = field.evaluations();
                refinerEvaluations = result.refinerEvaluations();
            } else {
                if (start.strength() != 1.0 || start.constraint() != LatentConstraint.NONE) {
                    throw new IllegalArgumentException("a one-step epsilon model takes no strength below 1 and no mask");
                }
                latents = new EpsilonOneStep((Prediction.Epsilon) manifest.prediction()).x0(noise, denoiser,
                        condition, device, trace);
                denoiserEvaluations = 1;
                steps.afterStep(0, 1, latents);
            }
            if (trace.enabled()) {
                trace.record("final_latents", latents);
            }
            execution.lap(Stage.DENOISE);

            Tensor pixels = decoder.toPixels(latents, trace, finite);
            execution.lap(Stage.DECODE);
            report(monitor, new Progress(Stage.DECODE, 0, plan.steps()));

            List<BufferedImage> all = ImageStart.composite(plan, ImageConverter.toImages(pixels, execution));
            // After the one synchronisation above: reading the flags costs no extra wait.
            finite.verify("check the manifest's latent.scaling_factor and prediction values, the request's guidance,"
                    + " and the parts' weights");
            execution.lap(Stage.TO_IMAGE);

            Generation.Timings timings = execution.timings();
            List<Generation> out = new ArrayList<>(batch.size());
            int image = 0;
            int prompt = 0;
            for (GenerationSettings g : batch) {
                out.add(new Generation(all.subList(image, image + g.batchSize()), g,
                        tokens.prompts().subList(prompt, prompt + g.prompts().size()), timings, denoiserEvaluations,
                        refinerEvaluations));
                image += g.batchSize();
                prompt += g.prompts().size();
            }
            return out;
        } catch (ListenerFailure e) {
            throw e.getCause();
        } catch (InstaFlowException | IllegalArgumentException | IllegalStateException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new InferenceException("generation failed: " + NativeErrors.summary(e), e);
        }
    }

    /**
     * The initial noise of every request, in batch order: each drawn from its own seed on the CPU generator (so a
     * request's noise is the same alone or batched), or the caller's.
     */
    private Tensor hostNoise(List<GenerationSettings> batch) {
        TensorVector parts = new TensorVector();
        for (GenerationSettings g : batch) {
            long[] shape = {g.batchSize(), manifest.latent().channels(),
                g.height() / manifest.latent().vaeScaleFactor(), g.width() / manifest.latent().vaeScaleFactor()};
            parts.push_back(g.noise().map(NoiseSource::given)
                    .orElseGet(() -> NoiseSource.seeded(g.seed().getAsLong(), shape)));
        }
        return batch.size() == 1 ? parts.get(0) : torch.cat(parts);
    }

    /**
     * Honours the caller's cancellation and {@link Thread#interrupt()} between stages and steps (a forward in progress
     * cannot be interrupted); an interrupt leaves the flag set for the caller.
     */
    private static void checkCancel(Engine.Monitor monitor, Progress progress) {
        if (Thread.currentThread().isInterrupted()) {
            throw new GenerationCancelledException(progress, "the generating thread was interrupted");
        }
        if (monitor.cancelled()) {
            throw new GenerationCancelledException(progress, "cancelled by the caller");
        }
    }

    private static void report(Engine.Monitor monitor, Progress progress) {
        try {
            monitor.progress(progress);
        } catch (RuntimeException e) {
            throw new ListenerFailure(e);
        }
        checkCancel(monitor, progress);
    }

    /** Carries an exception the caller's listener threw past the native-error wrapping, to be rethrown as is. */
    private static final class ListenerFailure extends RuntimeException {
        ListenerFailure(RuntimeException cause) {
            super(cause);
        }

        @Override
        public synchronized RuntimeException getCause() {
            return (RuntimeException) super.getCause();
        }
    }
}
