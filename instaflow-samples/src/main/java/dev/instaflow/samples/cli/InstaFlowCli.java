package dev.instaflow.samples.cli;

import dev.instaflow.train.cli.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.util.concurrent.Callable;

/**
 * The {@code instaflow} command line: {@code generate}, {@code bundle}, {@code tokenize}, {@code inspect},
 * {@code verify}, {@code bench}, {@code train}. See {@code docs/cli.md}.
 *
 * <p>Output contract: results on stdout, warnings and notes on stderr, and every failure as one line
 * {@code error: ...} on stderr with exit code 2 (usage: a bad flag or value) or 1 (the work failed). Stack traces
 * only with {@code --verbose}.
 */
@Command(name = "instaflow",
        scope = ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "One-step text-to-image (InstaFlow, 2-Rectified Flow, FlowTurbo, SwiftBrush) on LibTorch.",
        subcommands = {GenerateCommand.class, BundleCommand.class, TokenizeCommand.class, InspectCommand.class,
            VerifyCommand.class, BenchCommand.class, TrainCommand.class, dev.instaflow.server.ServeCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the work failed (model, device, file or inference error; verify: FAIL)",
            "2:usage error (unknown flag, missing or invalid value)"})
public final class InstaFlowCli implements Callable<Integer> {
    /** Exit code of a run whose work failed. */
    public static final int FAILURE = 1;
    /** Exit code of a bad command line or value. */
    public static final int USAGE = 2;

    // Declared for parsing and help on every command; ErrorReporter reads it from the parse result.
    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print the stack trace of an error, not only its one-line message.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line with its error handling installed: what {@link #main} runs, and what tests run in-process
     * (after {@code setOut}/{@code setErr}).
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new InstaFlowCli());
        ErrorReporter errors = new ErrorReporter();
        cli.setParameterExceptionHandler(errors);
        cli.setExecutionExceptionHandler(errors);
        return cli;
    }

    /** {@code instaflow} without a command: the usage, on stderr, as a usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }
}
