package dev.instaflow;

import dev.instaflow.spi.Engine;
import dev.instaflow.spi.Engine.LoadedModel;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A loaded text-to-image model; the entry point of the SDK.
 *
 * <pre>{@code
 * try (InstaFlow model = InstaFlow.load(Path.of("models/instaflow-0.9b"))) {
 *     BufferedImage cat = model.generate("a photo of a cat");
 *     Generation g = model.generate(GenerationRequest.builder().prompt("a dog").seed(7).build());
 * }
 * }</pre>
 *
 * <p>A model folder is a diffusers snapshot as published ({@code model_index.json}, configs, safetensors) or an
 * instaflow bundle ({@code manifest.json}, TorchScript parts). <b>Threads.</b> {@code generate} may be called from
 * several threads at once; each call runs on its caller's thread ({@link GenerationService} batches concurrent
 * requests on its own workers). Progress and cancellation from another thread: {@link #newCall}.
 * <b>Resources.</b> The model holds native memory (weights, on the CPU or a GPU) until {@link #close()},
 * which waits for running generations to finish and may be called any number of times. Using a closed model
 * throws {@link IllegalStateException}.
 */
public final class InstaFlow implements AutoCloseable {
    private final LoadedModel model;
    private final ModelInfo info;
    private final String name;
    // Generations hold the read lock, close() takes the write lock: close waits for running calls and no call starts
    // on a freed model.
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private InstaFlow(LoadedModel model) {
        this.model = model;
        this.info = model.info();
        this.name = info.name();
    }

    /** Loads the model folder {@code directory} with {@link LoadOptions#defaults()}. */
    public static InstaFlow load(Path directory) {
        return load(directory, LoadOptions.defaults());
    }

    /**
     * Loads and validates the model folder {@code directory}: its manifest or configs, its tokenizer, and each
     * network (run once on a small input to check its shapes); then, by default on CUDA, runs two warm-up
     * generations ({@link LoadOptions#warmUp()}).
     *
     * @throws InvalidModelException      if the model cannot be used; the message names the file and field
     * @throws DeviceUnavailableException if the requested device cannot be used; the message says why
     * @throws IllegalArgumentException   if an option conflicts with the model
     * @throws IllegalStateException      if no engine is on the classpath
     */
    public static InstaFlow load(Path directory, LoadOptions options) {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(options, "options");
        return load(engine(), directory, options);
    }

    /**
     * Applies process-wide settings (LibTorch's threads, cuDNN benchmarking) to every model of this JVM, loaded
     * before or after; see {@link RuntimeSettings}.
     *
     * @throws IllegalStateException if no engine is on the classpath
     */
    public static void configure(RuntimeSettings settings) {
        Objects.requireNonNull(settings, "settings");
        synchronized (InstaFlow.class) {
            engine().configure(settings);
            runtimeSettings = settings;
        }
    }

    /**
     * The settings last applied with {@link #configure}, or {@link RuntimeSettings#defaults()}; to change one value
     * and keep the others: {@code configure(runtimeSettings().withThreads(4))}.
     */
    public static synchronized RuntimeSettings runtimeSettings() {
        return runtimeSettings;
    }

    /** Loads through {@code engine}, then warms up as {@link LoadOptions#warmUp()} says. */
    static InstaFlow load(Engine engine, Path directory, LoadOptions options) {
        InstaFlow model = new InstaFlow(engine.load(directory, options));
        try {
            if (options.warmUp().orElse(model.info.device().isCuda())) {
                model.warmUp();
            }
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
        return model;
    }

    /**
     * Two default generations (the request a caller gets with no settings), because TorchScript's profiling
     * executor specialises a graph on its second call for each input signature and cuDNN tunes on the first.
     */
    private void warmUp() {
        GenerationRequest request = GenerationRequest.of("");
        for (int i = 0; i < 2; i++) {
            generate(request);
        }
    }

    /** What the model is, its defaults and limits. */
    public ModelInfo info() {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            return info;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** One image of {@code prompt} with the model's defaults and a random seed. */
    public BufferedImage generate(String prompt) {
        return generate(GenerationRequest.of(prompt)).image();
    }

    /**
     * Generates the request's images on this thread.
     *
     * @throws IllegalArgumentException      if a request value is outside what the model accepts
     * @throws GenerationCancelledException if the thread was interrupted
     * @throws InferenceException            if a network failed (the native message is kept)
     * @throws IllegalStateException         if the model is closed
     */
    public Generation generate(GenerationRequest request) {
        return newCall(request).execute();
    }

    /** A call of {@code request} that reports progress and can be cancelled from another thread. */
    public GenerationCall newCall(GenerationRequest request) {
        return new GenerationCall(this, request);
    }

    /** Resolves and runs one request: what {@link GenerationCall#execute} does. */
    Generation run(GenerationRequest request, Engine.Monitor monitor) {
        Objects.requireNonNull(request, "request");
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            GenerationSettings settings = RequestResolver.resolve(request, info);
            return model.generate(List.of(settings), monitor).get(0);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Resolves {@code request} against this model: defaults filled in, limits checked (a drawn seed included). */
    GenerationSettings resolve(GenerationRequest request) {
        return RequestResolver.resolve(request, info);
    }

    /** Runs already-resolved, pairwise batchable settings as one batch (the {@link GenerationService}'s path). */
    List<Generation> runBatch(List<GenerationSettings> batch, Engine.Monitor monitor) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            return model.generate(batch, monitor);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * Frees the model's native memory after any running generations finish. Idempotent.
     *
     * @throws IllegalStateException if called from inside {@code generate} on the same thread (from a listener)
     */
    @Override
    public void close() {
        if (lifecycle.getReadHoldCount() > 0) {
            throw new IllegalStateException("close() called from inside generate() (a progress listener?) of model '"
                    + name + "'; cancel the call (GenerationCall.cancel()) instead");
        }
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                model.close();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        lifecycle.readLock().lock();
        try {
            return closed;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "InstaFlow{" + name + (isClosed() ? ", closed" : "") + '}';
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("model '" + name + "' is closed");
        }
    }

    private static Engine engine;
    private static RuntimeSettings runtimeSettings = RuntimeSettings.defaults();

    /** The engine, found once on first use, so a missing engine fails with a clear message at that point. */
    private static synchronized Engine engine() {
        if (engine == null) {
            Iterator<Engine> engines = ServiceLoader.load(Engine.class, InstaFlow.class.getClassLoader()).iterator();
            if (!engines.hasNext()) {
                throw new IllegalStateException("no InstaFlow engine on the classpath: add the dependency"
                        + " dev.instaflow:instaflow-native (the LibTorch engine)");
            }
            engine = engines.next();
        }
        return engine;
    }
}
