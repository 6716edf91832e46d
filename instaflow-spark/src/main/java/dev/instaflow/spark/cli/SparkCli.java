package dev.instaflow.spark.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/**
 * {@code instaflow-spark}: the Spark commands ({@code spark-generate}, {@code spark-pairs}, {@code spark-bench}).
 * A separate main class and launcher ({@code instaflow-spark/bin/instaflow-spark}) so that the main
 * {@code instaflow.jar} carries no Spark; under spark-submit this class is the {@code --class}. See docs/spark.md.
 */
@Command(name = "instaflow-spark", mixinStandardHelpOptions = true,
        description = "InstaFlow on Apache Spark: bulk generation and the recipe's reflow pairs (docs/spark.md).",
        subcommands = {SparkGenerateCommand.class, SparkPairsCommand.class, SparkBenchCommand.class})
public final class SparkCli implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with one-line errors (exit 2 for usage, 1 for failed work), as the main CLI does. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new SparkCli());
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            boolean usage = e instanceof IllegalArgumentException;
            line.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            if (System.getenv("INSTAFLOW_VERBOSE") != null) {
                e.printStackTrace(line.getErr());
            }
            return usage ? 2 : 1;
        });
        return cli;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }
}
