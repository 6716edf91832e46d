package dev.instaflow.server;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line of {@code instaflow serve}, without serving. */
class ServeCommandTest {
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new ServeCommand());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpListsTheServingOptions() {
        Run r = run("--help");
        assertEquals(0, r.code());
        for (String option : new String[] {"--model", "--port", "--max-batch", "--max-delay-ms", "--queue",
            "--timeout-s", "--host"}) {
            assertTrue(r.out().contains(option), option + " in\n" + r.out());
        }
    }

    @Test
    void usageErrorsAndAnUnloadableModelAreReported() {
        assertEquals(2, run().code(), "--model is required");
        Run bad = run("--model", "x", "--max-batch", "0");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--max-batch"), bad.err());
        Run missing = run("--model", "/nonexistent/model", "--device", "cpu", "--port", "0");
        assertEquals(1, missing.code(), missing.err());
        assertTrue(missing.err().contains("cannot load /nonexistent/model"), missing.err());
    }
}
