package dev.instaflow.engine;

import dev.instaflow.LoadOptions;
import dev.instaflow.spi.Engine;
import dev.instaflow.spi.LoadedModel;

import java.nio.file.Path;

/** The LibTorch engine, registered for {@link java.util.ServiceLoader} as a {@link Engine}. */
public final class TorchEngine implements Engine {
    @Override
    public String name() {
        return "libtorch";
    }

    @Override
    public LoadedModel load(Path bundleDirectory, LoadOptions options) {
        return TorchModel.load(bundleDirectory, options);
    }
}
