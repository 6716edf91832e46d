package dev.instaflow.engine;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.InstaFlow;
import dev.instaflow.InvalidBundleException;
import dev.instaflow.engine.testing.TinyBundle;
import dev.instaflow.engine.testing.TorchArchives;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bundles damaged the ways QA found (issue 10): each fails at load with an {@link InvalidBundleException} naming the
 * file, the field or record, instead of crashing the JVM, hanging, reading outside the bundle or loading silently.
 */
class DamagedBundleTest {
    @TempDir
    Path temp;

    Path bundle;

    private Path tiny() {
        bundle = TinyBundle.create(temp.resolve("bundle"));
        return bundle;
    }

    void editManifest(Consumer<JsonObject> edit) throws IOException {
        Path file = bundle.resolve("manifest.json");
        JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        edit.accept(json);
        Files.writeString(file, json.toString());
    }

    private InvalidBundleException loadFails() {
        return assertThrows(InvalidBundleException.class,
                () -> InstaFlow.load(bundle, TestSettings.loadOptions()).close());
    }

    static void assertMentions(Exception e, String... fragments) {
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should mention '" + f + "'");
        }
    }

    // ---- item 1: part files ----

    @Test
    void aShortTensorRecordWithAValidCrcFailsAtLoadNamingTheTensor() {
        tiny();
        Path encoder = bundle.resolve("text_encoder.pt");
        TorchArchives.Record largest = TorchArchives.largestTensorRecord(encoder);
        TorchArchives.rewrite(encoder, largest.name(), data -> Arrays.copyOf(data, data.length / 2));
        InvalidBundleException e = loadFails();
        assertTrue(e.file().endsWith("text_encoder.pt"), e.file().toString());
        assertEquals("parts.text_encoder", e.field().orElseThrow());
        assertMentions(e, largest.name(), "short tensor record", "FloatStorage");
    }

    @Test
    void aBitFlipInATensorRecordFailsItsCrcCheck() {
        tiny();
        Path unet = bundle.resolve("unet.pt");
        TorchArchives.Record largest = TorchArchives.largestTensorRecord(unet);
        TorchArchives.flipBit(unet, largest, largest.length() / 3, 5);
        InvalidBundleException e = loadFails();
        assertEquals("parts.denoiser", e.field().orElseThrow());
        assertMentions(e, largest.name(), "CRC-32");
    }
}
