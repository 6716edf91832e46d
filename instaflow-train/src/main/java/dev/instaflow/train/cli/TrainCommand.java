package dev.instaflow.train.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code instaflow train}: the InstaFlow recipe on the procedural shapes dataset, stage by stage
 * ({@code docs/reflow.md}). Every stage runs the stages it needs first and resumes from its checkpoint.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a small text-conditioned rectified flow on procedural shapes, reflow it, distill it to"
                + " one step, and measure the result (docs/reflow.md).",
            "Typical: train all --work train-work, then train export --work train-work."},
        subcommands = {DatasetCommand.class, Rf1Command.class, PairsCommand.class, Rf2Command.class,
            DistillCommand.class, EvaluateCommand.class, AllCommand.class, ExportCommand.class})
public final class TrainCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing stage: dataset, rf1, pairs, rf2, distill,"
                + " evaluate, all or export");
    }
}
