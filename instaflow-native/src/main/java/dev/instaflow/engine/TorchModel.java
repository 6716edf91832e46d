package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.GenerationSettings;
import dev.instaflow.InvalidModelException;
import dev.instaflow.LoadOptions;
import dev.instaflow.ModelInfo;
import dev.instaflow.Precision;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.decode.ImageEncoder;
import dev.instaflow.engine.decode.LatentDecoder;
import dev.instaflow.engine.decode.VaeDecoder;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.snapshot.Snapshot;
import dev.instaflow.engine.snapshot.SnapshotNetworks;
import dev.instaflow.engine.sampling.Denoiser;
import dev.instaflow.engine.sampling.VelocityRefiner;
import dev.instaflow.engine.text.ClipTokenizer;
import dev.instaflow.engine.text.TextConditioner;
import dev.instaflow.engine.text.TextEncoder;
import dev.instaflow.engine.text.TextEncoderVocabulary;
import dev.instaflow.spi.Engine;
import dev.instaflow.spi.Engine.LoadedModel;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * A model loaded on LibTorch: the tokenizer, the networks on one device (a bundle's TorchScript parts, or the networks
 * built in Java from a diffusers snapshot's weights, see {@link SnapshotNetworks}), and the pipeline that runs them.
 * It owns every native object it holds (device handle, tokenizer, parts, snapshot weights) and frees them in
 * {@link #close()}.
 */
@EntryPoint("a model loaded for tools that need more than images: training (flow()), the CLI's bench")
public final class TorchModel implements LoadedModel {
    private final Path directory;
    private final DeviceContext device;
    private final ModelInfo info;
    private final Deque<AutoCloseable> resources;
    private final GenerationPipeline pipeline;
    private final LatentFlow flow;
    private boolean closed;

    private TorchModel(Path directory, DeviceContext device, ModelInfo info, Deque<AutoCloseable> resources,
                       GenerationPipeline pipeline, LatentFlow flow) {
        this.directory = directory;
        this.device = device;
        this.info = info;
        this.resources = resources;
        this.pipeline = pipeline;
        this.flow = flow;
    }

    /**
     * Loads the model in {@code directory}, a bundle ({@code manifest.json}) or a diffusers snapshot
     * ({@code model_index.json}), then runs each network once on the smallest input the manifest allows to check its
     * shapes (a wrong part fails here, naming its file, not in the middle of a generation).
     */
    public static TorchModel load(Path directory, LoadOptions options) {
        TorchRuntime.ensureLoaded();
        return Snapshot.isSnapshot(directory) ? loadSnapshot(directory, options) : loadBundle(directory, options);
    }

    private static TorchModel loadBundle(Path directory, LoadOptions options) {
        Bundle bundle = Bundle.open(directory);
        BundleManifest m = bundle.manifest();
        Precision precision = options.precision().orElse(m.dtype());
        DeviceContext device = DeviceContext.open(options.device(), precision);
        if (m.tracedOn().equals("cuda") && !device.isCuda()) {
            device.close();
            throw new InvalidModelException(bundle.manifestFile(), "traced_on", "the bundle was traced on cuda and"
                    + " traced graphs pin their device, so it cannot run on " + device.device() + ": load it with"
                    + " Device.cuda() (--device cuda), or export it for the CPU (exporter --device cpu --dtype fp32)");
        }
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        opened.push(device);
        try {
            // Parts are loaded (and cast) outside inference mode, so their weights are ordinary tensors.
            Stages stages = new Stages(push(opened, TextEncoder.load(bundle, device)),
                    push(opened, Denoiser.load(bundle, device)), push(opened, VaeDecoder.load(bundle, device)),
                    bundle.refiner().map(file -> push(opened, VelocityRefiner.load(file, device))),
                    bundle.vaeEncoder().map(file -> push(opened, ImageEncoder.load(file, m, device))));
            return assemble(bundle.directory(), bundle.manifestFile(), m, bundle.tokenizer(), device, stages, opened);
        } catch (RuntimeException | Error e) {
            closeAll(opened, e);
            throw e;
        }
    }

    private static TorchModel loadSnapshot(Path directory, LoadOptions options) {
        Snapshot snapshot = Snapshot.open(directory, options);
        BundleManifest m = snapshot.manifest();
        DeviceContext device = DeviceContext.open(options.device(), options.precision().orElse(m.dtype()));
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        opened.push(device);
        try {
            // The weights (owned by the model, pushed here) are read and cast outside inference mode too.
            SnapshotNetworks built = SnapshotNetworks.load(snapshot, options.variant(), device, opened::push);
            Stages stages = new Stages(push(opened, new TextEncoder(built.textEncoder(), m.text(), device)),
                    push(opened, new Denoiser(built.denoiser(), device)),
                    push(opened, new VaeDecoder(built.vaeDecoder(), device, m.latent().vaeScaleFactor())),
                    snapshot.refiner().map(file -> push(opened, VelocityRefiner.load(file, device))),
                    Optional.of(push(opened, new ImageEncoder(built.vaeEncoder(), device, m))));
            return assemble(snapshot.directory(), snapshot.settingsFile().orElse(snapshot.directory()
                    .resolve(Snapshot.INDEX_FILE)), m, snapshot.tokenizer(), device, stages, opened);
        } catch (RuntimeException | Error e) {
            closeAll(opened, e);
            throw e;
        }
    }

    /** The pipeline's network stages, whatever their networks are made of. */
    private record Stages(TextEncoder textEncoder, Denoiser denoiser, VaeDecoder vae,
                          Optional<VelocityRefiner> refiner, Optional<ImageEncoder> encoder) {
    }

    /** What bundles and snapshots share once their networks are loaded: tokenizer, probes, pipeline. */
    /** @param manifestFile the file load-time failures are reported on (a bundle's manifest, a snapshot's index) */
    private static TorchModel assemble(Path directory, Path manifestFile, BundleManifest m, Path tokenizerFolder,
                                       DeviceContext device, Stages stages, Deque<AutoCloseable> opened) {
        ClipTokenizer tokenizer = push(opened, ClipTokenizer.load(tokenizerFolder, m.text()));
        TextEncoder textEncoder = stages.textEncoder();
        Denoiser denoiser = stages.denoiser();
        VaeDecoder vae = stages.vae();
        Optional<VelocityRefiner> refiner = stages.refiner();

        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
            TextEncoderVocabulary.check(tokenizer, textEncoder, m.text(), manifestFile, !device.isCuda());
            textEncoder.validate(tokenizer, m);
            denoiser.validate(m, m.prediction().probeTimestep());
            vae.validate(m);
            refiner.ifPresent(r -> r.validate(m));
            stages.encoder().ifPresent(e -> e.validate(m));
        } catch (RuntimeException e) {
            throw LoadFailures.asInvalidBundle(e, manifestFile);
        }

        // Weights were cast and probed on the device's default stream; generations run on pooled non-blocking
        // streams, which do not wait for it. Finish the load's work before any generation can start.
        device.synchronizeDevice();

        TextConditioner conditioner = new TextConditioner(tokenizer, textEncoder);
        LatentDecoder decoder = new LatentDecoder(vae, m.latent().scalingFactor());
        GenerationPipeline pipeline = new GenerationPipeline(m, device, conditioner, denoiser, refiner, decoder,
                stages.encoder());
        return new TorchModel(directory, device, describe(directory, m, device, refiner.isPresent(),
                stages.encoder().isPresent()), opened, pipeline, new LatentFlow(m, device, conditioner, denoiser,
                decoder));
    }

    private static <T extends AutoCloseable> T push(Deque<AutoCloseable> opened, T resource) {
        opened.push(resource);
        return resource;
    }

    private static ModelInfo describe(Path directory, BundleManifest m, DeviceContext device, boolean hasRefiner,
                                      boolean hasEncoder) {
        return new ModelInfo(directory, m.name(), m.family(), m.prediction().type(), device.device(),
                device.precision(),
                new ModelInfo.Defaults(m.image().defaultWidth(), m.image().defaultHeight(), m.sampling().sampler(),
                        m.sampling().steps(), m.sampling().guidance(), m.sampling().negativePrompt()),
                new ModelInfo.Limits(m.image().sizeMultiple(), m.limits().maxSize(), m.limits().maxBatch(),
                        m.limits().maxSteps(), m.text().maxLength()),
                new ModelInfo.Features(m.prediction().supportsGuidance(), hasRefiner, hasEncoder),
                new ModelInfo.Latents(m.latent().channels(), m.latent().vaeScaleFactor()), m.provenance());
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public List<Generation> generate(List<GenerationSettings> batch, Engine.Monitor monitor) {
        return generate(batch, monitor, PipelineTrace.NONE);
    }

    /** A generation whose intermediate tensors go to {@code trace} (parity tests, debugging tools). */
    public List<Generation> generate(List<GenerationSettings> batch, Engine.Monitor monitor, PipelineTrace trace) {
        if (closed) {
            throw new IllegalStateException("model '" + info.name() + "' is closed");
        }
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("an empty batch");
        }
        for (GenerationSettings g : batch.subList(1, batch.size())) {
            if (!g.canBatchWith(batch.get(0))) {
                throw new IllegalArgumentException("settings " + g + " cannot run in one batch with " + batch.get(0));
            }
        }
        return pipeline.run(batch, monitor, trace);
    }

    /** The flow at the tensor level, for training and evaluation tools; see {@link LatentFlow}. */
    public LatentFlow flow() {
        if (closed) {
            throw new IllegalStateException("model '" + info.name() + "' is closed");
        }
        return flow;
    }

    /** The model folder: a bundle or a diffusers snapshot. */
    public Path directory() {
        return directory;
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
