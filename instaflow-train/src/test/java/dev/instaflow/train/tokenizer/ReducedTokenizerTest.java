package dev.instaflow.train.tokenizer;

import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.train.TestSupport;
import dev.instaflow.train.data.Caption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reduced tokenizer gives the full CLIP tokenizer's ids for every caption word, and so does the shipped one. */
class ReducedTokenizerTest {
    @TempDir
    Path temp;

    private static List<String> texts() {
        List<String> texts = new ArrayList<>(Caption.vocabulary());
        Caption.all().forEach(c -> texts.add(c.text()));
        texts.add("");
        texts.add("A RED Circle   on a blue background");
        return texts;
    }

    @Test
    void derivedFolderMatchesFullClipOnEveryCaptionWord() throws IOException {
        Path full = TestSupport.sharedClipTokenizer();
        Path reduced = temp.resolve("tokenizer");
        ReducedTokenizer.derive(full, Caption.vocabulary(), reduced);
        assertNull(ReducedTokenizer.firstMismatch(full, reduced, texts()));
        long bytes;
        try (Stream<Path> files = Files.list(reduced)) {
            bytes = files.mapToLong(p -> p.toFile().length()).sum();
        }
        assertTrue(bytes < 4096, "the reduced tokenizer is small: " + bytes + " bytes");
    }

    @Test
    void shippedTokenizerMatchesFullClipOnEveryCaptionWord() {
        assertNull(ReducedTokenizer.firstMismatch(TestSupport.sharedClipTokenizer(), TestSupport.shippedTokenizer(),
                texts()));
    }

    @Test
    void wordsOutsideTheVocabularyMayDiffer() {
        Path full = TestSupport.sharedClipTokenizer();
        Path reduced = temp.resolve("tokenizer");
        ReducedTokenizer.derive(full, Caption.vocabulary(), reduced);
        // Documented: "purple" is not a caption word, so the reduced tokenizer cannot produce CLIP's token for it.
        assertNotNull(ReducedTokenizer.firstMismatch(full, reduced, List.of("a purple circle")));
    }

    @Test
    void captionIdsUseTheClipIdsAndFraming() {
        CaptionIds ids = CaptionIds.load(TestSupport.shippedTokenizer());
        assertEquals(77, ids.length());
        assertEquals(49406, ids.framing().bosId());
        assertEquals(49407, ids.framing().padId());
        // "a red circle on a blue background": a</w> 320, red</w> 736, circle</w> 7117, on</w> 525, blue</w> 1746,
        // background</w> 5994 (CLIP's vocab.json).
        long[] row = Tensors.toLongs(ids.rows(new int[] {ids.rowOf(Caption.parse(
                "a red circle on a blue background"))}, 10));
        assertEquals(List.of(49406L, 320L, 736L, 7117L, 525L, 320L, 1746L, 5994L, 49407L, 49407L),
                java.util.Arrays.stream(row).boxed().toList());
        assertEquals(10, ids.trainingPositions());
    }
}
