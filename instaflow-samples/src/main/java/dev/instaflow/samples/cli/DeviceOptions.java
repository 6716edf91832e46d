package dev.instaflow.samples.cli;

import dev.instaflow.Device;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.RuntimeSettings;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --threads}, shared by the commands that load a model. */
final class DeviceOptions {
    /** The device, or null for {@code auto} (LoadOptions' own choice: a CUDA GPU if usable, else the CPU). */
    @Option(names = "--device", paramLabel = "auto|cpu|cuda|cuda:N", defaultValue = "auto",
            converter = Converters.DeviceConverter.class,
            description = "Where to run: auto (a CUDA GPU if present, else the CPU), cpu, cuda, cuda:N."
                    + " Default: ${DEFAULT-VALUE}.")
    Device device;

    @Option(names = "--threads", paramLabel = "N",
            description = "LibTorch intra-op CPU threads. Default: LibTorch's choice (one per core).")
    Integer threads;

    /** The process-wide settings these options ask for: {@code --threads} if given. */
    RuntimeSettings runtimeSettings() {
        RuntimeSettings settings = InstaFlow.runtimeSettings();
        return threads == null ? settings : settings.withThreads(threads);
    }

    /** Applies {@code --threads}, if given, before a model is loaded (a process-wide setting). */
    void configureRuntime() {
        if (threads != null) {
            InstaFlow.configure(runtimeSettings());
        }
    }

    /** Options for a one-shot command: no warm-up generations at load (the command's own call is the only one). */
    LoadOptions loadOptions() {
        LoadOptions.Builder b = LoadOptions.builder().warmUp(false);
        if (device != null) {
            b.device(device);
        }
        return b.build();
    }
}
