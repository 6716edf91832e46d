package dev.instaflow.spi;

import dev.instaflow.Generation;
import dev.instaflow.ModelInfo;
import dev.instaflow.ProgressListener;

/**
 * A model an {@link Engine} loaded. {@link dev.instaflow.InstaFlow} guarantees that {@link #generate} is never
 * called after {@link #close()} begins and that {@link #close()} is called once, after every running
 * {@link #generate} has returned. {@link #generate} may be called from several threads at once.
 */
public interface LoadedModel extends AutoCloseable {
    ModelInfo info();

    Generation generate(GenerationPlan plan, ProgressListener listener);

    /** Frees every native resource of the model. Does not throw. */
    @Override
    void close();
}
