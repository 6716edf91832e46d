package dev.instaflow.spark;

import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerateJobTest {
    private static final int ROWS = 8;
    private static Map<String, byte[]> reference;

    @TempDir
    Path temp;

    @BeforeAll
    static void referenceImages() {
        // Every row generated alone, in one partition, outside the job.
        SparkSession spark = TestSpark.session();
        Path input = writeInput(Path.of(System.getProperty("java.io.tmpdir")), "reference-input.jsonl");
        reference = TestSpark.pngs(ImageGenerator.builder(TestSpark.model()).device("cpu").build()
                .transform(spark.read().json(input.toString()).dropDuplicates().coalesce(1)).collectAsList());
        assertEquals(ROWS, reference.size());
    }

    @AfterEach
    void noHook() {
        ImageGenerator.hook = null;
    }

    /** ROWS rows, one duplicated exactly (the job makes it one image), ids given and derived. */
    private static Path writeInput(Path dir, String name) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < ROWS - 1; i++) {
            s.append("{\"id\": \"r").append(i).append("\", \"prompt\": \"prompt ").append(i).append("\"")
                    .append(i % 2 == 0 ? ", \"seed\": " + (100 + i) : "").append("}\n");
        }
        s.append("{\"prompt\": \"no id\", \"steps\": 2}\n");
        s.append("{\"prompt\": \"no id\", \"steps\": 2}\n");   // the same row twice: one id, one image
        try {
            return Files.writeString(dir.resolve(name), s.toString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private GenerateJob.Options options(Path input, Path out, String format, int roundRows) {
        return new GenerateJob.Options(input.toString(), null, out.toString(), TestSpark.model(), "cpu", format,
                roundRows, 2, false);
    }

    private static List<Row> committed(Path out) {
        return TestSpark.session().read().parquet(out.resolve("data").toString()).collectAsList();
    }

    private static void assertComplete(Path out) {
        Map<String, byte[]> images = TestSpark.pngs(committed(out));    // fails on a duplicated id
        assertEquals(reference.keySet(), images.keySet());
        reference.forEach((id, png) -> assertArrayEquals(png, images.get(id), id));
        assertTrue(Files.isRegularFile(out.resolve("_SUCCESS")));
        assertFalse(Files.exists(out.resolve("_staging")));
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndNothingIsDuplicated() {
        Path input = writeInput(temp, "prompts.jsonl");
        Path out = temp.resolve("out");
        int[] failures = {0};
        ImageGenerator.hook = (partition, attempt, id) -> {
            if (partition == 0 && attempt == 0) {
                failures[0]++;
                throw new ImageGenerator.InjectedFault("injected");
            }
        };
        GenerateJob.Result r = GenerateJob.run(TestSpark.session(), options(input, out, "parquet", 100), quiet());
        assertTrue(failures[0] > 0);
        assertEquals(ROWS, r.rows());
        assertEquals(ROWS, r.generated());
        assertComplete(out);
    }

    @Test
    void aRerunAfterAnInterruptedRunGeneratesOnlyWhatIsMissing() throws IOException {
        Path input = writeInput(temp, "prompts.jsonl");
        Path out = temp.resolve("out");
        // Run 1 dies for good (both attempts) at a row of its last round (4 rounds of 2 rows: rows go to round
        // pmod(xxhash64(id), 4)), so the earlier rounds are committed and the last is not.
        List<Row> buckets = TestSpark.session().createDataset(List.of("r0", "r1", "r2", "r3", "r4", "r5", "r6"),
                Encoders.STRING()).toDF("id").select(col("id"), pmod(xxhash64(col("id")), lit(4)).as("b"))
                .orderBy(col("b").desc()).collectAsList();
        String victim = buckets.get(0).getString(0);
        ImageGenerator.hook = (partition, attempt, id) -> {
            if (id.equals(victim)) {
                throw new ImageGenerator.InjectedFault("killed");
            }
        };
        assertThrows(Exception.class, () -> GenerateJob.run(TestSpark.session(), options(input, out, "parquet", 2),
                quiet()));
        ImageGenerator.hook = null;
        // what a kill -9 leaves: a half-written round in _staging
        Files.createDirectories(out.resolve("_staging/round-killed"));
        Files.writeString(out.resolve("_staging/round-killed/part-00000.parquet"), "half a file");
        long committed = committed(out).size();
        assertTrue(committed >= 1 && committed < ROWS, "committed after the kill: " + committed);
        assertFalse(Files.exists(out.resolve("_SUCCESS")));

        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        long before = SdkGenerator.GENERATED.get();
        GenerateJob.Result r = GenerateJob.run(TestSpark.session(), options(input, out, "parquet", 2),
                new PrintStream(notes, true, StandardCharsets.UTF_8));
        assertEquals(ROWS - committed, SdkGenerator.GENERATED.get() - before, "only the missing rows");
        assertEquals(committed, r.alreadyDone());
        assertTrue(r.interrupted());
        assertTrue(notes.toString(StandardCharsets.UTF_8).contains("interrupted"), notes.toString());
        assertComplete(out);

        before = SdkGenerator.GENERATED.get();
        GenerateJob.Result again = GenerateJob.run(TestSpark.session(), options(input, out, "parquet", 2), quiet());
        assertEquals(0, SdkGenerator.GENERATED.get() - before);
        assertEquals(ROWS, again.alreadyDone());
        assertFalse(again.interrupted());
        assertComplete(out);
    }

    @Test
    void pngFormatWritesOneFilePerIdAndAManifest() throws IOException {
        Path input = writeInput(temp, "prompts.jsonl");
        Path out = temp.resolve("png");
        GenerateJob.run(TestSpark.session(), options(input, out, "png", 100), quiet());
        for (Map.Entry<String, byte[]> e : reference.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(out.resolve("images").resolve(
                    GenerateJob.fileName(e.getKey()))), e.getKey());
        }
        try (Stream<Path> files = Files.list(out.resolve("images"))) {
            assertEquals(ROWS, files.count(), "no temporary files left");
        }
        List<String> manifest = Files.readAllLines(out.resolve("manifest.jsonl"));
        assertEquals(ROWS, manifest.size());
        assertTrue(manifest.get(0).contains("\"file\":\"images/"), manifest.get(0));
    }

    @Test
    void csvInputAndConflictingIdsAndAnotherModel() throws IOException {
        Path csv = Files.writeString(temp.resolve("p.csv"), "id,prompt,seed\nx,\"a cat, sitting\",3\nx,a dog,4\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GenerateJob.run(
                TestSpark.session(), options(csv, temp.resolve("c"), "parquet", 100), quiet()));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());

        Path ok = Files.writeString(temp.resolve("q.csv"), "id,prompt,seed\nx,\"a cat, sitting\",3\n");
        GenerateJob.run(TestSpark.session(), options(ok, temp.resolve("q"), "parquet", 100), quiet());
        assertEquals("a cat, sitting", committed(temp.resolve("q")).get(0).getAs("prompt"));
        GenerateJob.Options other = new GenerateJob.Options(ok.toString(), null, temp.resolve("q").toString(),
                "/elsewhere/model", "cpu", "parquet", 100, 2, false);
        e = assertThrows(IllegalArgumentException.class, () -> GenerateJob.run(TestSpark.session(), other, quiet()));
        assertTrue(e.getMessage().contains("model"), e.getMessage());
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
