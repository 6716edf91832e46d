package dev.instaflow.engine.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.InvalidModelException;
import dev.instaflow.Generation.PromptTokens;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.testing.SharedFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLIP tokenizer built from vocab.json + merges.txt, against the shared prompt → ids vectors. */
class ClipTokenizerTest {
    static final BundleManifest.Text SD15 = new BundleManifest.Text(77, 768, 49406, 49407, 49407);
    static ClipTokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = ClipTokenizer.load(SharedFixtures.clip(), SD15);
    }

    @AfterAll
    static void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }

    static JsonArray json(String file) throws IOException {
        return JsonParser.parseString(Files.readString(SharedFixtures.clip().resolve(file))).getAsJsonArray();
    }

    static long[] longs(JsonArray a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }

    static Stream<Arguments> vectors() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        for (JsonElement e : json("vectors.json")) {
            JsonObject v = e.getAsJsonObject();
            cases.add(Arguments.of(v.get("note").getAsString(), v.get("prompt").getAsString(),
                    longs(v.getAsJsonArray("ids")), v.get("n_tokens_before_truncation").getAsInt()));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void givesExactlyTheReferenceIds(String note, String prompt, long[] expected, int tokenCount) {
        TokenizedBatch batch = tokenizer.encode(List.of(prompt));
        assertArrayEquals(expected, batch.row(0), note + ": " + prompt);
        PromptTokens info = batch.prompts().get(0);
        assertEquals(tokenCount, info.tokenCount(), "tokens before truncation");
        assertEquals(tokenCount > 75, info.truncated(), "truncation is reported");
    }

    static Stream<Arguments> citedVectors() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        for (JsonElement e : json("cited_vectors.json")) {
            JsonObject v = e.getAsJsonObject();
            JsonObject source = v.getAsJsonObject("source");
            cases.add(Arguments.of(source.get("repo").getAsString(), v.get("prompt").getAsString(),
                    longs(v.getAsJsonArray("expected_ids")), v.get("framing").getAsString()));
        }
        return cases.stream();
    }

    /** Public test suites frame differently (padding with 0, no markers): compare the text tokens. */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("citedVectors")
    void agreesWithPublicTestSuitesOnTheTextTokens(String repo, String prompt, long[] expected, String framing) {
        long[] expectedTokens = framing.startsWith("tokens only") ? expected : textTokens(expected);
        TokenizedBatch batch = tokenizer.encode(List.of(prompt));
        int kept = batch.prompts().get(0).keptTokens();
        long[] actual = Arrays.copyOfRange(batch.row(0), 1, 1 + kept);
        assertArrayEquals(expectedTokens, actual, repo + ": " + prompt);
    }

    /** The ids between the leading begin marker and the first end marker. */
    private static long[] textTokens(long[] framed) {
        int end = 1;
        while (end < framed.length && framed[end] != 49407) {
            end++;
        }
        return Arrays.copyOfRange(framed, 1, end);
    }

    @Test
    void aTokenizerJsonGivesTheSameIds(@TempDir Path temp) throws IOException {
        JsonObject vocab = JsonParser.parseString(Files.readString(SharedFixtures.clip().resolve("vocab.json")))
                .getAsJsonObject();
        List<String> merges = new ArrayList<>();
        for (String l : Files.readAllLines(SharedFixtures.clip().resolve("merges.txt"))) {
            if (!l.startsWith("#version") && !l.isEmpty()) {
                merges.add(l);
            }
        }
        SpecialTokens special = SpecialTokens.read(SharedFixtures.clip());
        Files.writeString(temp.resolve("tokenizer.json"), ClipTokenizer.clipTokenizerJson(vocab, merges, special,
                SharedFixtures.clip().resolve("vocab.json")));
        try (ClipTokenizer fromJson = ClipTokenizer.load(temp, SD15)) {
            for (String prompt : List.of("a photo of a cat", "Hello World!", "a café in Zürich", "")) {
                assertArrayEquals(tokenizer.encode(List.of(prompt)).row(0), fromJson.encode(List.of(prompt)).row(0),
                        prompt);
            }
        }
    }

    @Test
    void padsWithTheModelsPadIdForSd2(@TempDir Path temp) throws IOException {
        Path folder = copyClip(temp);
        Files.writeString(folder.resolve("special_tokens_map.json"), "{\"bos_token\": \"<|startoftext|>\","
                + " \"eos_token\": \"<|endoftext|>\", \"unk_token\": \"<|endoftext|>\", \"pad_token\": \"!\"}");
        BundleManifest.Text sd2 = new BundleManifest.Text(77, 1024, 49406, 49407, 0);
        assertEquals(0, TokenizerFraming.read(folder).padId(), "the folder's own pad token is '!' = id 0");
        try (ClipTokenizer t = ClipTokenizer.load(folder, sd2)) {
            long[] row = t.encode(List.of("a photo of a cat")).row(0);
            assertArrayEquals(new long[] {49406, 320, 1125, 539, 320, 2368, 49407, 0}, Arrays.copyOf(row, 8));
            assertEquals(0, row[76]);
        }
    }

    @Test
    void aManifestPadIdThatContradictsTheTokenizerIsRejected(@TempDir Path temp) throws IOException {
        Path folder = copyClip(temp);
        Files.writeString(folder.resolve("special_tokens_map.json"), "{\"pad_token\": \"!\"}");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ClipTokenizer.load(folder, SD15));
        assertEquals(folder.resolve("special_tokens_map.json"), e.file());
        assertEquals("pad_token", e.field().orElseThrow());
        assertTrue(e.getMessage().contains("49407"), e.getMessage());
    }

    @Test
    void aMissingMergesFileIsNamed(@TempDir Path temp) throws IOException {
        Path folder = copyClip(temp);
        Files.delete(folder.resolve("merges.txt"));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ClipTokenizer.load(folder, SD15));
        assertEquals(folder.resolve("merges.txt"), e.file());
    }

    @Test
    void truncationKeepsTheEndMarker() {
        String longPrompt = String.join(" ", java.util.Collections.nCopies(100, "word"));
        TokenizedBatch batch = tokenizer.encode(List.of(longPrompt, "short"));
        long[] row = batch.row(0);
        assertEquals(49406, row[0]);
        assertEquals(49407, row[76], "the end marker survives truncation");
        assertTrue(batch.prompts().get(0).truncated());
        assertEquals(100, batch.prompts().get(0).tokenCount());
        assertEquals(75, batch.prompts().get(0).keptTokens());
        assertFalse(batch.prompts().get(1).truncated());
    }

    private static Path copyClip(Path temp) throws IOException {
        Path folder = Files.createDirectories(temp.resolve("tokenizer"));
        for (String f : new String[] {"vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"}) {
            Files.copy(SharedFixtures.clip().resolve(f), folder.resolve(f));
        }
        return folder;
    }
}
