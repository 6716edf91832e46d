package dev.instaflow.samples.cli;

import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;

/** {@code --model DIR}, shared by the commands that read a bundle; without it, the {@link DefaultModel}. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR",
            description = "Model bundle folder (with manifest.json). Default: the built-in default model.")
    Path model;

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
