package dev.instaflow.defaultmodel;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.RuntimeSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the README's Java section promises: the default model in one line, from this jar alone. */
class DefaultModelTest {
    @TempDir
    Path temp;

    @Test
    void pathExtractsTheShippedModelOnceAndItLoads() throws Exception {
        String previous = System.getProperty(DefaultModel.HOME_PROPERTY);
        System.setProperty(DefaultModel.HOME_PROPERTY, temp.toString());
        try {
            Path dir = DefaultModel.path();
            assertTrue(dir.startsWith(temp.resolve("models")), dir.toString());
            assertTrue(dir.getFileName().toString().startsWith("default-"), dir.toString());
            long written = Files.getLastModifiedTime(dir.resolve("denoiser.pt")).toMillis();
            assertEquals(dir, DefaultModel.path(), "the same folder again");
            assertEquals(written, Files.getLastModifiedTime(dir.resolve("denoiser.pt")).toMillis(), "not extracted twice");

            InstaFlow.configure(InstaFlow.runtimeSettings().withThreads(1));
            try (InstaFlow model = InstaFlow.load(DefaultModel.path(), LoadOptions.defaults())) {
                assertEquals("shapes-1rf-distilled", model.info().name());
                Generation g = model.generate(GenerationRequest.builder()
                        .prompt("a yellow circle on a blue background").seed(2).build());
                assertEquals(32, g.image().getWidth());
                assertEquals(2L, g.settings().seed().getAsLong());
            }
        } finally {
            if (previous == null) {
                System.clearProperty(DefaultModel.HOME_PROPERTY);
            } else {
                System.setProperty(DefaultModel.HOME_PROPERTY, previous);
            }
        }
    }
}
