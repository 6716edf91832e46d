package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.InvalidBundleException;
import dev.instaflow.LoadOptions;
import dev.instaflow.ModelInfo;
import dev.instaflow.Precision;
import dev.instaflow.PredictionType;
import dev.instaflow.ProgressListener;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.decode.LatentDecoder;
import dev.instaflow.engine.decode.VaeDecoder;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.sampling.Denoiser;
import dev.instaflow.engine.sampling.VelocityRefiner;
import dev.instaflow.engine.text.ClipTokenizer;
import dev.instaflow.engine.text.TextConditioner;
import dev.instaflow.engine.text.TextEncoder;
import dev.instaflow.engine.text.TextEncoderVocabulary;
import dev.instaflow.spi.GenerationPlan;
import dev.instaflow.spi.LoadedModel;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * A bundle loaded on LibTorch: the tokenizer, the three (or four) TorchScript parts on one device, and the pipeline
 * that runs them. It owns every native object it holds and frees them in {@link #close()}.
 */
public final class TorchModel implements LoadedModel {
    private final Bundle bundle;
    private final DeviceContext device;
    private final ModelInfo info;
    private final Deque<AutoCloseable> resources;
    private final GenerationPipeline pipeline;
    private boolean closed;

    private TorchModel(Bundle bundle, DeviceContext device, ModelInfo info, Deque<AutoCloseable> resources,
                       GenerationPipeline pipeline) {
        this.bundle = bundle;
        this.device = device;
        this.info = info;
        this.resources = resources;
        this.pipeline = pipeline;
    }

    /**
     * Loads the bundle in {@code directory}, then runs each part once on the smallest input the manifest allows to
     * check its shapes (a wrong part fails here, naming its file, not in the middle of a generation).
     */
    public static TorchModel load(Path directory, LoadOptions options) {
        TorchRuntime.ensureLoaded();
        options.threads().ifPresent(TorchRuntime::setIntraOpThreads);
        Bundle bundle = Bundle.open(directory);
        BundleManifest m = bundle.manifest();
        Precision precision = options.precision().orElse(m.dtype());
        DeviceContext device = DeviceContext.open(options.device(), precision, options.cudnnBenchmark());
        if (m.tracedOn().equals("cuda") && !device.isCuda()) {
            device.close();
            throw new InvalidBundleException(bundle.manifestFile(), "traced_on", "the bundle was traced on cuda and"
                    + " traced graphs pin their device, so it cannot run on " + device.device() + ": load it with"
                    + " Device.cuda() (--device cuda), or export it for the CPU (exporter --device cpu --dtype fp32)");
        }

        Deque<AutoCloseable> opened = new ArrayDeque<>();
        opened.push(device);
        try {
            // Parts are loaded (and cast) outside inference mode, so their weights are ordinary tensors.
            ClipTokenizer tokenizer = push(opened, ClipTokenizer.load(bundle.tokenizer(), m.text()));
            TextEncoder textEncoder = push(opened, TextEncoder.load(bundle, device));
            Denoiser denoiser = push(opened, Denoiser.load(bundle, device));
            VaeDecoder vae = push(opened, VaeDecoder.load(bundle, device));
            Optional<VelocityRefiner> refiner = bundle.refiner().isPresent()
                    ? Optional.of(push(opened, VelocityRefiner.load(bundle, device))) : Optional.empty();

            try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
                TextEncoderVocabulary.check(tokenizer, textEncoder, m.text(), bundle.manifestFile(), !device.isCuda());
                textEncoder.validate(tokenizer, m);
                denoiser.validate(m, m.prediction().type() == PredictionType.VELOCITY
                        ? m.prediction().timeScale() : m.prediction().timestep());
                vae.validate(m);
                refiner.ifPresent(r -> r.validate(m));
            } catch (RuntimeException e) {
                throw LoadFailures.asInvalidBundle(e, bundle.manifestFile());
            }

            // Weights were cast and probed on the device's default stream; generations run on pooled non-blocking
            // streams, which do not wait for it. Finish the load's work before any generation can start.
            device.synchronizeDevice();

            GenerationPipeline pipeline = new GenerationPipeline(m, device,
                    new TextConditioner(tokenizer, textEncoder), denoiser, refiner,
                    new LatentDecoder(vae, m.latent().scalingFactor()));
            return new TorchModel(bundle, device, describe(bundle, device, refiner.isPresent()), opened, pipeline);
        } catch (RuntimeException | Error e) {
            closeAll(opened, e);
            throw e;
        }
    }

    private static <T extends AutoCloseable> T push(Deque<AutoCloseable> opened, T resource) {
        opened.push(resource);
        return resource;
    }

    private static ModelInfo describe(Bundle bundle, DeviceContext device, boolean hasRefiner) {
        BundleManifest m = bundle.manifest();
        return ModelInfo.builder()
                .bundleDirectory(bundle.directory())
                .name(m.name())
                .family(m.family())
                .predictionType(m.prediction().type())
                .latentChannels(m.latent().channels())
                .vaeScaleFactor(m.latent().vaeScaleFactor())
                .scalingFactor(m.latent().scalingFactor())
                .defaultWidth(m.image().defaultWidth())
                .defaultHeight(m.image().defaultHeight())
                .defaultSteps(m.sampling().steps())
                .defaultGuidance(m.sampling().guidance())
                .defaultNegativePrompt(m.sampling().negativePrompt())
                .defaultSampler(m.sampling().sampler())
                .sizeMultiple(m.image().sizeMultiple())
                .maxSize(m.limits().maxSize())
                .maxBatch(m.limits().maxBatch())
                .maxSteps(m.limits().maxSteps())
                .maxTokens(m.text().maxLength())
                .textHiddenSize(m.text().hiddenSize())
                .supportsGuidance(m.prediction().type() == PredictionType.VELOCITY)
                .hasRefiner(hasRefiner)
                .precision(device.precision())
                .device(device.device())
                .build();
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public Generation generate(GenerationPlan plan, ProgressListener listener) {
        return generate(plan, listener, PipelineTrace.NONE);
    }

    /** A generation whose intermediate tensors go to {@code trace} (parity tests, debugging tools). */
    public Generation generate(GenerationPlan plan, ProgressListener listener, PipelineTrace trace) {
        if (closed) {
            throw new IllegalStateException("model '" + info.name() + "' is closed");
        }
        return pipeline.run(plan, listener, trace);
    }

    public Bundle bundle() {
        return bundle;
    }

    public DeviceContext device() {
        return device;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeAll(resources, null);
        }
    }

    private static void closeAll(Deque<AutoCloseable> resources, Throwable primary) {
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                if (primary != null) {
                    primary.addSuppressed(e);
                }
            }
        }
    }
}
