package dev.instaflow.engine;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.InstaFlow;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.testing.TinyBundle;
import dev.instaflow.engine.testing.TorchArchives;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bundles damaged the ways QA found (issue 10): each fails at load with an {@link InvalidModelException} naming the
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

    private InvalidModelException loadFails() {
        return assertThrows(InvalidModelException.class,
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
        InvalidModelException e = loadFails();
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
        InvalidModelException e = loadFails();
        assertEquals("parts.denoiser", e.field().orElseThrow());
        assertMentions(e, largest.name(), "CRC-32");
    }

    // ---- item 3: files of the bundle ----

    private static final String SECRET = "root:x:0:0:secret-outside-the-bundle";

    private Path outsideFile() throws IOException {
        Path outside = temp.resolve("outside.txt");
        if (!Files.exists(outside)) {
            Files.writeString(outside, SECRET + "\n{\"" + SECRET + "\": 1}\n");
        }
        return outside;
    }

    @Test
    void tokenizerFilesLinkedOutsideTheBundleAreRefusedWithoutQuotingThem() throws IOException {
        for (String name : new String[] {"vocab.json", "merges.txt", "special_tokens_map.json",
            "tokenizer_config.json", "tokenizer.json"}) {
            bundle = TinyBundle.create(temp.resolve("bundle-" + name));
            Path file = bundle.resolve("tokenizer").resolve(name);
            Files.deleteIfExists(file);
            Files.createSymbolicLink(file, outsideFile());
            InvalidModelException e = loadFails();
            assertTrue(e.file().endsWith(name), name + ": " + e.getMessage());
            assertMentions(e, "outside");
            assertTrue(!e.getMessage().contains("secret") && !String.valueOf(e.getCause()).contains("secret"),
                    name + ": " + e.getMessage());
        }
    }

    @Test
    void aManifestLinkedOutsideTheBundleIsRefused() throws IOException {
        tiny();
        Files.delete(bundle.resolve("manifest.json"));
        Files.createSymbolicLink(bundle.resolve("manifest.json"), outsideFile());
        InvalidModelException e = loadFails();
        assertMentions(e, "manifest.json", "outside");
        assertTrue(!e.getMessage().contains("secret"), e.getMessage());

        Files.delete(bundle.resolve("manifest.json"));
        Files.createSymbolicLink(bundle.resolve("manifest.json"), Path.of("/dev/zero"));
        assertMentions(loadFails(), "manifest.json", "outside"); // not OutOfMemoryError
    }

    @Test
    void aManifestThatIsAFifoFailsInsteadOfHanging() throws Exception {
        tiny();
        Path manifest = bundle.resolve("manifest.json");
        Files.delete(manifest);
        Process mkfifo = new ProcessBuilder("mkfifo", manifest.toString()).start();
        assertEquals(0, mkfifo.waitFor());
        InvalidModelException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(30), this::loadFails);
        assertMentions(e, "manifest.json", "not a regular file");
    }

    @Test
    void oversizedFilesAreRefusedBeforeParsing() throws IOException {
        tiny();
        Path manifest = bundle.resolve("manifest.json");
        String json = Files.readString(manifest);
        Files.writeString(manifest, json + " ".repeat((1 << 20) + 1));
        assertMentions(loadFails(), "manifest.json", "more than the 1048576 bytes");

        tiny2();
        Path vocab = bundle.resolve("tokenizer/vocab.json");
        String text = Files.readString(vocab);
        Files.writeString(vocab, text + " ".repeat((16 << 20) + 1 - text.length()));
        assertMentions(loadFails(), "vocab.json", "more than the 16777216 bytes");
    }

    @Test
    void jsonSyntaxErrorsGiveThePositionNotTheText() throws IOException {
        tiny();
        Files.writeString(bundle.resolve("tokenizer/special_tokens_map.json"), "{\"bos_token\": " + SECRET);
        InvalidModelException e = loadFails();
        assertMentions(e, "special_tokens_map.json", "not valid JSON", "line 1");
        assertTrue(!e.getMessage().contains("secret"), e.getMessage());
    }

    private void tiny2() {
        bundle = TinyBundle.create(temp.resolve("bundle2"));
    }

    // ---- item 4: a tokenizer that disagrees with the manifest or the text encoder ----

    @Test
    void markerIdsThatContradictTheTokenizerFail() throws IOException {
        tiny();
        editManifest(j -> j.getAsJsonObject("text").addProperty("bos_id", 320));
        InvalidModelException e = loadFails();
        assertEquals("text.bos_id", e.field().orElseThrow());
        assertMentions(e, "<|startoftext|>", "49406", "320");
        editManifest(j -> {
            j.getAsJsonObject("text").addProperty("bos_id", 49406);
            j.getAsJsonObject("text").addProperty("eos_id", 49406);
        });
        assertEquals("text.eos_id", loadFails().field().orElseThrow());
    }

    private List<String> mergeLines() throws IOException {
        return new ArrayList<>(Files.readAllLines(bundle.resolve("tokenizer/merges.txt")));
    }

    @Test
    void anEmptiedOrTruncatedMergesFileFails() throws IOException {
        tiny();
        List<String> lines = mergeLines();
        Files.writeString(bundle.resolve("tokenizer/merges.txt"), "#version: 0.2\n");
        assertMentions(loadFails(), "merges.txt", "produced by no merge");
        tiny2();
        Files.write(bundle.resolve("tokenizer/merges.txt"), lines.subList(0, 20000));
        assertMentions(loadFails(), "merges.txt", "produced by no merge");
    }

    @Test
    void aReversedMergesFileFails() throws IOException {
        tiny();
        List<String> lines = mergeLines();
        List<String> reversed = new ArrayList<>(lines.subList(1, lines.size()));
        Collections.reverse(reversed);
        reversed.add(0, lines.get(0));
        Files.write(bundle.resolve("tokenizer/merges.txt"), reversed);
        assertMentions(loadFails(), "merges.txt", "out of order");
    }

    private void editVocab(Consumer<JsonObject> edit) throws IOException {
        Path file = bundle.resolve("tokenizer/vocab.json");
        JsonObject vocab = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        edit.accept(vocab);
        Files.writeString(file, vocab.toString());
    }

    @Test
    void aDuplicateOrNonNumericVocabularyIdFails() throws IOException {
        tiny();
        editVocab(v -> v.addProperty("cat</w>", 320));
        assertMentions(loadFails(), "vocab.json", "reuses id 320");
        tiny2();
        editVocab(v -> v.add("cat</w>", new com.google.gson.JsonArray()));
        assertMentions(loadFails(), "vocab.json", "not an integer");
    }

    @Test
    void idsBeyondTheTextEncodersEmbeddingTableFail() throws IOException {
        tiny();
        editVocab(v -> v.addProperty("zzzz</w>", 50000));
        Files.writeString(bundle.resolve("tokenizer/merges.txt"), "z z\nzz zz</w>\nz z</w>\n",
                java.nio.file.StandardOpenOption.APPEND);
        editVocab(v -> {
            v.addProperty("zz", 50001);
            v.addProperty("zz</w>", 50002);
        });
        InvalidModelException e = loadFails();
        assertMentions(e, "49408 rows", "ids up to 50002", "another text encoder");
    }

    @Test
    void anotherVocabularyFails() throws IOException {
        tiny();
        // A consistent tokenizer of 1002 tokens (CLIP's first 1000 and its markers renumbered 1000 and 1001) with a
        // manifest that agrees with it: it belongs to another text encoder than this one of 49408 rows.
        List<String> lines = mergeLines();
        editVocab(v -> {
            List<String> drop = new ArrayList<>();
            v.entrySet().forEach(en -> {
                if (en.getValue().getAsLong() >= 1000) {
                    drop.add(en.getKey());
                }
            });
            drop.forEach(v::remove);
            v.addProperty("<|startoftext|>", 1000);
            v.addProperty("<|endoftext|>", 1001);
        });
        Files.write(bundle.resolve("tokenizer/merges.txt"), lines.subList(0, 1 + 1000 - 512));
        editManifest(j -> {
            j.getAsJsonObject("text").addProperty("bos_id", 1000);
            j.getAsJsonObject("text").addProperty("eos_id", 1001);
            j.getAsJsonObject("text").addProperty("pad_id", 1001);
        });
        InvalidModelException e = loadFails();
        assertMentions(e, "1002 tokens", "49408 rows", "another text encoder");

        // The same subset keeping CLIP's ids (sparse: 1000 tokens and the markers at 49406, 49407)
        tiny2();
        editVocab(v -> {
            List<String> drop = new ArrayList<>();
            v.entrySet().forEach(en -> {
                if (en.getValue().getAsLong() >= 1000 && en.getValue().getAsLong() < 49406) {
                    drop.add(en.getKey());
                }
            });
            drop.forEach(v::remove);
        });
        Files.write(bundle.resolve("tokenizer/merges.txt"), lines.subList(0, 1 + 1000 - 512));
        assertMentions(loadFails(), "1002 tokens with ids up to 49407", "49408 rows");
    }

    @Test
    void aMaxLengthOtherThanTheEncodersPositionTableFails() throws IOException {
        tiny();
        editManifest(j -> j.getAsJsonObject("text").addProperty("max_length", 76));
        InvalidModelException e = loadFails();
        assertEquals("text.max_length", e.field().orElseThrow());
        assertMentions(e, "expected 77");
    }

    // ---- item 5: values that used to escape as other exception types, or load and compute garbage ----

    @Test
    void extremeNumbersAreInvalidModelExceptionsNamingTheField() throws IOException {
        tiny();
        String manifest = Files.readString(bundle.resolve("manifest.json"));
        // Gson refuses to parse an exponent this large (NumberFormatException before)
        String huge = manifest.replaceFirst("\"channels\"\\s*:\\s*4", "\"channels\": 1e100000");
        assertTrue(huge.contains("1e100000"));
        Files.writeString(bundle.resolve("manifest.json"), huge);
        InvalidModelException e = loadFails();
        assertEquals("latent.channels", e.field().orElseThrow());
        assertMentions(e, "expected an integer");

        Files.writeString(bundle.resolve("manifest.json"), manifest);
        editManifest(j -> j.getAsJsonObject("prediction").addProperty("time_scale", 1e308)); // LibTorch overflow before
        assertEquals("prediction.time_scale", loadFails().field().orElseThrow());
        editManifest(j -> {
            j.getAsJsonObject("prediction").addProperty("time_scale", 1000);
            j.getAsJsonObject("latent").addProperty("scaling_factor", 1e30); // decoded near-zero latents before
        });
        assertEquals("latent.scaling_factor", loadFails().field().orElseThrow());
    }
}
