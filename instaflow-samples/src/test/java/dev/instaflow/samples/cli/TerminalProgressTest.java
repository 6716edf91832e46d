package dev.instaflow.samples.cli;

import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.RuntimeSettings;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TerminalProgressTest {
    @Test
    void noBarWithJsonOrWithoutATerminal() {
        assertFalse(TerminalProgress.wanted(true), "--json: never");
        assertFalse(TerminalProgress.isTerminal(null), "no console: not a terminal");
        if (System.console() == null) { // as under Maven: stdin and stdout are pipes
            assertFalse(TerminalProgress.wanted(false));
            assertSame(TerminalProgress.off(), TerminalProgress.start("generate", 10, false));
        }
        assertFalse(TerminalProgress.off().shown());
        TerminalProgress.off().generation().accept(null); // does nothing, not even look at the report
    }

    @Test
    void aGenerationDrawsEveryStageThenClearsTheBar() throws Exception {
        ByteArrayOutputStream drawn = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(drawn, true, StandardCharsets.UTF_8);
             InstaFlow model = loadTinyBundle()) {
            TerminalProgress progress = TerminalProgress.to(out, 100, "generate", -1);
            assertTrue(progress.shown());
            model.newCall(GenerationRequest.builder().prompt("a cat").seed(1).steps(3).build())
                    .execute(progress.generation());
            progress.close();
            int length = drawn.size();
            progress.close(); // the commands close early (before their report) and again on leaving the block
            assertTrue(drawn.size() == length, "a second close draws nothing");
        }
        String text = drawn.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("generate"), text);
        assertTrue(text.contains("100%") && text.contains("5/5"), "3 steps + text encoder + decoder: " + text);
        assertTrue(text.contains("decode"), text);
        assertTrue(text.endsWith("\r"), "the bar is cleared at the end: " + text.replace("\r", "\\r"));
    }

    private static InstaFlow loadTinyBundle() {
        InstaFlow.configure(InstaFlow.runtimeSettings().withThreads(Integer.parseInt(TestModels.threads())));
        return InstaFlow.load(TestModels.tinyBundle(), LoadOptions.defaults());
    }
}
