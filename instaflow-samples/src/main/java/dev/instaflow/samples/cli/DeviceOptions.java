package dev.instaflow.samples.cli;

import dev.instaflow.Device;
import dev.instaflow.LoadOptions;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --threads}, shared by the commands that load a model. */
final class DeviceOptions {
    @Option(names = "--device", paramLabel = "auto|cpu|cuda|cuda:N", defaultValue = "auto",
            converter = Converters.DeviceConverter.class,
            description = "Where to run: auto (a CUDA GPU if present, else the CPU), cpu, cuda, cuda:N."
                    + " Default: ${DEFAULT-VALUE}.")
    Device device;

    @Option(names = "--threads", paramLabel = "N",
            description = "LibTorch intra-op CPU threads. Default: LibTorch's choice (one per core).")
    Integer threads;

    /** Options for a one-shot command: no warm-up generations at load (the command's own call is the only one). */
    LoadOptions loadOptions() {
        LoadOptions.Builder b = LoadOptions.builder().device(device).warmUp(false);
        if (threads != null) {
            b.threads(threads);
        }
        return b.build();
    }
}
