package dev.instaflow.spi;

import dev.instaflow.LoadOptions;

import java.nio.file.Path;

/**
 * The service an inference backend provides, found with {@link java.util.ServiceLoader}. The LibTorch engine in
 * {@code instaflow-native} registers itself; users never call this directly but go through
 * {@link dev.instaflow.InstaFlow}, which owns validation, defaults and the closing protocol.
 */
public interface Engine {
    /** A short name for messages, such as {@code libtorch}. */
    String name();

    /**
     * Loads and validates a bundle.
     *
     * @throws dev.instaflow.InvalidBundleException     if the bundle is unusable (naming file and field)
     * @throws dev.instaflow.DeviceUnavailableException if the device cannot be used
     */
    LoadedModel load(Path bundleDirectory, LoadOptions options);
}
