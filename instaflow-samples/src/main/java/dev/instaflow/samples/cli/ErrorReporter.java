package dev.instaflow.samples.cli;

import dev.instaflow.InstaFlowException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.List;

/**
 * Turns every failure into one line {@code error: ...} on stderr and an exit code: 2 for a bad command line or value
 * (picocli's parse errors and {@link IllegalArgumentException}s, which the SDK throws for values it refuses), 1 for
 * everything else (bundle, device, inference and file errors). The stack trace follows only with {@code --verbose}.
 */
final class ErrorReporter implements IParameterExceptionHandler, IExecutionExceptionHandler {

    @Override
    public int handleParseException(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        String hint = suggestions(e);
        // picocli starts some messages with "Error: "; the line already starts with "error: ".
        String message = oneLine(e.getMessage()).replaceFirst("^Error: ", "");
        report(command.getErr(), message + hint + " (see '"
                + command.getCommandSpec().qualifiedName() + " --help')", e, Arrays.asList(args).contains("--verbose"));
        return InstaFlowCli.USAGE;
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine command, ParseResult parsed) {
        boolean usage = e instanceof IllegalArgumentException;
        report(command.getErr(), describe(e), e, verbose(parsed));
        return usage ? InstaFlowCli.USAGE : InstaFlowCli.FAILURE;
    }

    /** The one-line message for an exception thrown while a command ran. */
    static String describe(Throwable e) {
        if (e instanceof IllegalArgumentException || e instanceof InstaFlowException) {
            return oneLine(e.getMessage());
        }
        if (e instanceof UncheckedIOException) {
            String context = e.getMessage();
            String cause = describe(e.getCause());
            // UncheckedIOException(cause) copies the cause's toString() as its message; keep only the cause then.
            return context == null || context.equals(String.valueOf(e.getCause())) ? cause
                    : oneLine(context) + ": " + cause;
        }
        if (e instanceof IOException) {
            return describeIo((IOException) e);
        }
        return "internal error: " + e + " (run with --verbose for the stack trace)";
    }

    private static String describeIo(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or folder: " + ((NoSuchFileException) e).getFile();
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied: " + ((AccessDeniedException) e).getFile();
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists: " + ((FileAlreadyExistsException) e).getFile();
        }
        if (e instanceof FileSystemException) {
            FileSystemException f = (FileSystemException) e;
            return f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": "
                    + (f.getReason() != null ? f.getReason() : e.getClass().getSimpleName());
        }
        return oneLine(e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
    }

    private static void report(PrintWriter err, String message, Exception e, boolean verbose) {
        err.println("error: " + message);
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
    }

    private static String suggestions(ParameterException e) {
        if (e instanceof UnmatchedArgumentException) {
            List<String> candidates = ((UnmatchedArgumentException) e).getSuggestions();
            if (!candidates.isEmpty()) {
                return "; did you mean " + String.join(" or ", candidates) + "?";
            }
        }
        return "";
    }

    private static boolean verbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    static String oneLine(String message) {
        return message == null ? "(no message)" : message.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
