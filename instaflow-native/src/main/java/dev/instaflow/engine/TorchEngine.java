package dev.instaflow.engine;

import dev.instaflow.LoadOptions;
import dev.instaflow.RuntimeSettings;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.spi.Engine;

import java.nio.file.Path;

/** The LibTorch engine, registered for {@link java.util.ServiceLoader} as a {@link Engine}. */
public final class TorchEngine implements Engine {
    @Override
    public String name() {
        return "libtorch";
    }

    @Override
    public void configure(RuntimeSettings settings) {
        TorchRuntime.configure(settings);
    }

    @Override
    public Engine.LoadedModel load(Path directory, LoadOptions options) {
        return TorchModel.load(directory, options);
    }
}
