package dev.instaflow.spark;

import dev.instaflow.train.cli.RecipeOptions;
import dev.instaflow.train.data.CaptionSplit;
import dev.instaflow.train.reflow.PairGenerator;
import dev.instaflow.train.tokenizer.CaptionIds;
import dev.instaflow.train.training.TrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SparkPairsTest {
    /** The shipped default model: a trained shapes bundle, the recipe's kind of teacher. */
    private static final Path TEACHER =
            Path.of("../instaflow-samples/src/main/resources/dev/instaflow/samples/default-model");

    @TempDir
    Path temp;

    @Test
    void sparkWritesTheSamePairFilesAsTheSingleMachineCommand() throws IOException {
        Path tokenizer = TEACHER.resolve("tokenizer");
        PairGenerator generator = new PairGenerator(3, 2, 2, 2, 2.0, 21);    // 2 chunks, the last one short
        RecipeOptions.configureRuntime(1);
        generator.generate(TEACHER, temp.resolve("single"), CaptionSplit.training(), CaptionIds.load(tokenizer),
                TrainingListener.NONE);

        Path spark = temp.resolve("spark");
        assertEquals(2, SparkPairs.run(TestSpark.session(), generator, TEACHER, tokenizer, spark, 1));
        assertSameChunks(temp.resolve("single"), spark, 2);

        // resumable: a lost chunk is made again, the same bytes; nothing else is redone
        Files.delete(PairGenerator.chunkFile(spark, 1));
        assertEquals(1, SparkPairs.run(TestSpark.session(), generator, TEACHER, tokenizer, spark, 1));
        assertSameChunks(temp.resolve("single"), spark, 2);
        assertEquals(3, Files.readAllLines(spark.resolve("timing.csv")).size());
    }

    private static void assertSameChunks(Path a, Path b, int chunks) throws IOException {
        for (int c = 0; c < chunks; c++) {
            assertArrayEquals(Files.readAllBytes(PairGenerator.chunkFile(a, c)),
                    Files.readAllBytes(PairGenerator.chunkFile(b, c)), "chunk " + c);
        }
    }
}
