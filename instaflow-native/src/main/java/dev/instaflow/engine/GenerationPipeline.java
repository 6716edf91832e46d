package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.GenerationCancelledException;
import dev.instaflow.InferenceException;
import dev.instaflow.InstaFlowException;
import dev.instaflow.Progress;
import dev.instaflow.ProgressListener;
import dev.instaflow.Stage;
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
import dev.instaflow.spi.GenerationPlan;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Optional;

/**
 * One generation as a pipe: tokenize, encode the text, draw the noise, sample, decode, copy to images. Runs on the
 * caller's thread under LibTorch's inference mode, inside one {@link PointerScope} that frees every tensor the call
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

    Generation run(GenerationPlan plan, ProgressListener listener, PipelineTrace trace) {
        // Before any work: a size the manifest admits may still need more memory than there is.
        MemoryEstimate.check(plan.batchSize(), plan.guided(), plan.width(), plan.height(),
                manifest.latent().vaeScaleFactor(), device.precision(), device.isCuda());
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             DeviceExecution execution = device.begin()) {
            FiniteCheck finite = new FiniteCheck();
            checkInterrupt(new Progress(Stage.TOKENIZE, 0, plan.steps()));
            TokenizedBatch tokens = conditioner.tokenize(plan.prompts(), plan.guided() ? plan.negativePrompt() : null);
            execution.lap(Stage.TOKENIZE);
            checkInterrupt(new Progress(Stage.TOKENIZE, 0, plan.steps()));

            Conditioning condition = conditioner.encode(tokens, plan.prompts().size(), plan.imagesPerPrompt(),
                    plan.guided(), plan.guidance(), trace);
            finite.record("the text embeddings (the text encoder's output)", condition.text());
            execution.lap(Stage.TEXT_ENCODER);
            report(listener, new Progress(Stage.TEXT_ENCODER, 0, plan.steps()));

            long[] shape = {plan.batchSize(), manifest.latent().channels(),
                plan.height() / manifest.latent().vaeScaleFactor(), plan.width() / manifest.latent().vaeScaleFactor()};
            Tensor hostNoise = plan.noise().map(NoiseSource::given).orElseGet(() -> NoiseSource.seeded(plan.seed(),
                    shape));
            Tensor noise = device.upload(hostNoise);
            if (trace.enabled()) {
                trace.record("initial_noise", noise);
            }
            // Image inputs: x_init from the VAE encoder, the start point at strength s, the mask blend (timed as noise).
            ImageStart start = ImageStart.prepare(plan, noise, encoder, manifest.latent().vaeScaleFactor(), device,
                    trace);
            execution.lap(Stage.NOISE);

            StepListener steps = (step, total, latents) -> {
                if (trace.enabled()) {
                    trace.record("latents_after_step" + step, latents);
                }
                finite.record("the latents after denoise step " + (step + 1) + "/" + total, latents);
                report(listener, new Progress(Stage.DENOISE, step + 1, total));
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
                latents = new EpsilonOneStep((Prediction.Epsilon) manifest.prediction()).x0(noise, denoiser, condition, device, trace);
                denoiserEvaluations = 1;
                steps.afterStep(0, 1, latents);
            }
            if (trace.enabled()) {
                trace.record("final_latents", latents);
            }
            execution.lap(Stage.DENOISE);

            Tensor pixels = decoder.toPixels(latents, trace, finite);
            execution.lap(Stage.DECODE);
            report(listener, new Progress(Stage.DECODE, plan.steps(), plan.steps()));

            List<BufferedImage> images = ImageStart.composite(plan, ImageConverter.toImages(pixels, execution));
            // After the one synchronisation above: reading the flags costs no extra wait.
            finite.verify("check the manifest's latent.scaling_factor and prediction values, the request's guidance,"
                    + " and the parts' weights");
            execution.lap(Stage.TO_IMAGE);

            return Generation.builder()
                    .images(images)
                    .seed(plan.noise().isPresent() ? null : plan.seed())
                    .size(plan.width(), plan.height())
                    .sampler(plan.sampler())
                    .steps(plan.steps())
                    .guidance(plan.guidance())
                    .guided(plan.guided())
                    .negativePrompt(plan.guided() ? plan.negativePrompt() : "")
                    .prompts(tokens.prompts().subList(0, plan.prompts().size()))
                    .denoiserEvaluations(denoiserEvaluations)
                    .refinerEvaluations(refinerEvaluations)
                    .strength(plan.image().isPresent() ? plan.strength() : null)
                    .masked(plan.image().flatMap(i -> i.mask()).isPresent())
                    .timings(execution.timings())
                    .build();
        } catch (ListenerFailure e) {
            throw e.getCause();
        } catch (InstaFlowException | IllegalArgumentException | IllegalStateException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new InferenceException("generation failed: " + NativeErrors.summary(e), e);
        }
    }

    /**
     * Honours {@link Thread#interrupt()} between stages and steps (a forward in progress cannot be interrupted):
     * cancels, and leaves the interrupt flag set for the caller.
     */
    private static void checkInterrupt(Progress progress) {
        if (Thread.currentThread().isInterrupted()) {
            throw new GenerationCancelledException(progress, "the generating thread was interrupted");
        }
    }

    private static void report(ProgressListener listener, Progress progress) {
        checkInterrupt(progress);
        boolean goOn;
        try {
            goOn = listener.onProgress(progress);
        } catch (RuntimeException e) {
            throw new ListenerFailure(e);
        }
        if (!goOn) {
            throw new GenerationCancelledException(progress);
        }
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
