package dev.instaflow.samples.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizeCommandTest {
    /** The fixture README's ids for "a photo of a cat", padded with 49407 (SD 1.5) to 77. */
    private static final String CAT = "49406 320 1125 539 320 2368 49407"
            + " 49407".repeat(70);

    @Test
    void framesTheTextAsTheBundleManifestSays() {
        Cli.Result r = Cli.run("tokenize", "--model", TestModels.tinyBundle().toString(), "a photo of a cat")
                .succeeded();
        assertEquals(List.of(CAT), r.outLines());
        assertEquals(77, r.outLines().get(0).split(" ").length);
    }

    @Test
    void framesTheTextAsATokenizerFolderSays() {
        Cli.Result r = Cli.run("tokenize", "--tokenizer", TestModels.tinySd15().resolve("model/tokenizer").toString(),
                "a photo of a cat", "").succeeded();
        assertEquals(List.of(CAT, "49406" + " 49407".repeat(76)), r.outLines(), "one line per text, in order");
    }

    @Test
    void piecesFollowTheIds() {
        Cli.Result r = Cli.run("tokenize", "--model", TestModels.tinyBundle().toString(), "--pieces",
                "a photo of a cat").succeeded();
        assertEquals(List.of(CAT, "# a</w> photo</w> of</w> a</w> cat</w>"), r.outLines());
    }

    @Test
    void aTruncatedTextIsWarnedAbout() {
        String text = String.join(" ", Collections.nCopies(80, "cat"));
        Cli.Result r = Cli.run("tokenize", "--model", TestModels.tinyBundle().toString(), text);
        assertEquals(0, r.exitCode(), r::toString);
        String[] ids = r.outLines().get(0).split(" ");
        assertEquals(77, ids.length);
        assertEquals("2368", ids[75], "75 text tokens kept");
        assertEquals("49407", ids[76], "the end marker is kept");
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().startsWith("warning: text 1 has 80 tokens; only the first 75 fit"), r.err());
    }

    @Test
    void modelAndTokenizerTogetherIsAUsageError() {
        Path tiny = TestModels.tinyBundle();
        Cli.Result r = Cli.run("tokenize", "--model", tiny.toString(), "--tokenizer", tiny.resolve("tokenizer").toString(),
                "x").failedWith(InstaFlowCli.USAGE);
        assertTrue(r.err().contains("mutually exclusive"), r.err());
    }

    @Test
    void aFolderWithoutTokenizerFilesIsNamed() {
        Path notATokenizer = TestModels.tinySd15().resolve("torchscript");
        Cli.Result r = Cli.run("tokenize", "--tokenizer", notATokenizer.toString(), "x")
                .failedWith(InstaFlowCli.FAILURE);
        assertTrue(r.err().contains(notATokenizer.toString()) && r.err().contains("vocab.json"), r.err());
    }
}
