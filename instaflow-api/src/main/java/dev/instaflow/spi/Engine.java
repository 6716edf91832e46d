package dev.instaflow.spi;

import dev.instaflow.Generation;
import dev.instaflow.GenerationSettings;
import dev.instaflow.LoadOptions;
import dev.instaflow.ModelInfo;
import dev.instaflow.Progress;
import dev.instaflow.RuntimeSettings;

import java.nio.file.Path;
import java.util.List;

/**
 * The service an inference backend provides, found with {@link java.util.ServiceLoader}. The LibTorch engine in
 * {@code instaflow-native} registers itself; users never call this directly but go through
 * {@link dev.instaflow.InstaFlow}, which owns validation, defaults, batching and the closing protocol.
 */
public interface Engine {
    /** A short name for messages, such as {@code libtorch}. */
    String name();

    /** Applies the process-wide settings; see {@link RuntimeSettings}. May be called before and between loads. */
    void configure(RuntimeSettings settings);

    /**
     * Loads and validates a model folder (a bundle or a diffusers snapshot).
     *
     * @throws dev.instaflow.InvalidModelException      if the model is unusable (naming file and field)
     * @throws dev.instaflow.DeviceUnavailableException if the device cannot be used
     */
    LoadedModel load(Path directory, LoadOptions options);

    /**
     * A model an {@link Engine} loaded. {@link dev.instaflow.InstaFlow} guarantees that {@link #generate} is never
     * called after {@link #close()} begins and that {@link #close()} is called once, after every running
     * {@link #generate} has returned. {@link #generate} may be called from several threads at once.
     */
    interface LoadedModel extends AutoCloseable {
        ModelInfo info();

        /**
         * Generates several requests' settings in one batch: their images go through each network together, while
         * each keeps its own prompts, negative prompt, seed or noise. The settings are resolved against
         * {@link #info()} and pairwise {@link GenerationSettings#canBatchWith batchable}; the list is not empty.
         *
         * @return one generation per settings, in order
         */
        List<Generation> generate(List<GenerationSettings> batch, Monitor monitor);

        /** Frees every native resource of the model. Does not throw. */
        @Override
        void close();
    }

    /** What a running generation reports to its caller and asks of it, between stages and steps. */
    interface Monitor {
        /** A monitor that ignores progress and never cancels. */
        Monitor NONE = new Monitor() {
            @Override
            public void progress(Progress progress) {
            }

            @Override
            public boolean cancelled() {
                return false;
            }
        };

        /** Told after the text encoder, after each sampler step and after decoding, on the generating thread. */
        void progress(Progress progress);

        /** Whether the caller cancelled; asked before each stage and step. */
        boolean cancelled();
    }
}
