package dev.instaflow.train.cli;

import dev.instaflow.engine.bundle.StagedDirectory;
import dev.instaflow.train.bundle.ModelBundleWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code train export}: copies a trained bundle to where the CLI embeds its default model. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Copy a stage's bundle (default: the one-step student of 1-RF, which measured best; see"
                + " docs/reflow.md) to a folder, by default the embedded default model of the CLI.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--work", defaultValue = "train-work", description = "Work folder (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--stage", defaultValue = "distill-rf1", description = "rf1, rf2, distill-rf1 or distill-rf2"
            + " (default: ${DEFAULT-VALUE}).")
    String stage;

    @Option(names = "--to", defaultValue = "instaflow-samples/src/main/resources/dev/instaflow/samples/default-model",
            description = "Target folder, replaced (default: ${DEFAULT-VALUE}).")
    Path to;

    @Override
    public Integer call() throws IOException {
        Path bundle = work.resolve(stage).resolve("bundle");
        Path index = bundle.resolve(ModelBundleWriter.FILE_INDEX);
        if (!Files.isRegularFile(index)) {
            throw new IllegalArgumentException("no finished bundle at " + bundle + "; run `train "
                    + (stage.startsWith("distill") ? "distill --teacher " + stage.substring(8) : stage) + "` first");
        }
        List<String> files = Files.readAllLines(index).stream().filter(l -> !l.isBlank()).toList();
        try (StagedDirectory staged = StagedDirectory.beside(to)) {
            for (String f : files) {
                Path target = staged.path().resolve(f);
                Files.createDirectories(target.getParent());
                Files.copy(bundle.resolve(f), target);
            }
            Files.copy(index, staged.path().resolve(ModelBundleWriter.FILE_INDEX));
            StagedDirectory.deleteTree(to); // the export replaces the previous default model
            staged.commit();
        }
        System.out.println("copied " + bundle + " (" + files.size() + " files) to " + to);
        return 0;
    }
}
