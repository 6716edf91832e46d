package dev.instaflow.samples.cli;

import dev.instaflow.LoadOptions;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * {@code --model DIR} (a bundle or a diffusers snapshot) and the snapshot options, shared by the commands that read a
 * model; without {@code --model}, the {@link DefaultModel}.
 */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR",
            description = "Model folder: a bundle (with manifest.json) or a diffusers snapshot (with"
                    + " model_index.json). Default: the built-in default model.")
    Path model;

    @Option(names = "--variant", paramLabel = "NAME",
            description = "Snapshots: the weight variant to read, e.g. fp16 for diffusion_pytorch_model.fp16"
                    + ".safetensors. Default: the plain weights.")
    String variant;

    @Option(names = "--settings", paramLabel = "FILE",
            description = "Snapshots: an instaflow.json to use instead of the snapshot's own (docs/models.md).")
    Path settings;

    /** {@code options} with the snapshot options of the command line. */
    LoadOptions apply(LoadOptions options) {
        LoadOptions.Builder b = options.toBuilder();
        if (variant != null) {
            b.variant(variant);
        }
        if (settings != null) {
            b.settings(settings);
        }
        return b.build();
    }

    /** The bundle folder to use; names the default model on {@code err} when it is the demo. */
    Path directory(PrintWriter err) {
        return directory(err, DefaultModel.installed());
    }

    Path directory(PrintWriter err, DefaultModel defaults) {
        if (model != null) {
            return model;
        }
        DefaultModel.Location location = defaults.locate();
        if (location.demo()) {
            err.println(DefaultModel.DEMO_NOTE);
            err.flush();
        }
        return location.directory();
    }
}
