package dev.instaflow.samples.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the command line in-process, as {@code main} does, and keeps what it printed. */
final class Cli {
    private Cli() {
    }

    /** What one run printed and returned. */
    record Result(int exitCode, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\\R"));
        }

        List<String> outLines() {
            return out.isEmpty() ? List.of() : List.of(out.split("\\R"));
        }

        /** Asserts a clean success: exit 0 and nothing on stderr. */
        Result succeeded() {
            assertEquals(0, exitCode, this::toString);
            assertEquals("", err, this::toString);
            return this;
        }

        /** Asserts a failure reported the CLI way: the exit code, one line "error: ..." on stderr, no trace. */
        Result failedWith(int expectedExitCode) {
            assertNotEquals(0, exitCode, this::toString);
            assertEquals(expectedExitCode, exitCode, this::toString);
            assertEquals(1, errLines().size(), () -> "exactly one line on stderr expected: " + this);
            assertTrue(err.startsWith("error: "), this::toString);
            assertFalse(err.contains("\tat ") || err.contains("Exception"), () -> "no stack trace expected: " + this);
            return this;
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = InstaFlowCli.commandLine()
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(args);
        return new Result(code, out.toString(), err.toString());
    }
}
