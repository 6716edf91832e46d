package dev.instaflow;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API module alone has no engine: loading says which dependency to add. */
class InstaFlowWithoutEngineTest {
    @Test
    void namesTheMissingDependency() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> InstaFlow.load(Path.of("any")));
        assertTrue(e.getMessage().contains("instaflow-native"), e.getMessage());
    }
}
