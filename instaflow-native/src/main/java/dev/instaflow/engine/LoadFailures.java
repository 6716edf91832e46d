package dev.instaflow.engine;

import dev.instaflow.InstaFlowException;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.runtime.NativeErrors;

import java.nio.file.Path;

/**
 * The load-time checks run the parts on the manifest's values; what fails there is the bundle's fault, whatever
 * LibTorch throws (e.g. a {@code time_scale} of 1e308 does not fit the float32 timestep tensor). Anything that is
 * not already one of the SDK's exceptions becomes an {@link InvalidModelException} on the manifest, keeping the
 * native message.
 */
final class LoadFailures {
    private LoadFailures() {
    }

    static RuntimeException asInvalidBundle(RuntimeException e, Path manifestFile) {
        if (e instanceof InstaFlowException || e instanceof IllegalStateException) {
            return e;
        }
        return new InvalidModelException(manifestFile, null, "the bundle failed its load-time check: "
                + NativeErrors.summary(e), e);
    }
}
