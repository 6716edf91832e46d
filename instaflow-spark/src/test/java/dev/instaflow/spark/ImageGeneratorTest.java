package dev.instaflow.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageGeneratorTest {
    private static final StructType INPUT = new StructType()
            .add("id", DataTypes.StringType).add("prompt", DataTypes.StringType).add("seed", DataTypes.LongType)
            .add("steps", DataTypes.IntegerType).add("guidance", DataTypes.DoubleType)
            .add("width", DataTypes.IntegerType).add("height", DataTypes.IntegerType);

    @AfterEach
    void noHook() {
        ImageGenerator.hook = null;
    }

    private static Dataset<Row> prompts(SparkSession spark) {
        List<Row> rows = new ArrayList<>();
        rows.add(RowFactory.create("a", "a photo of a cat", 1234L, null, null, null, null));
        rows.add(RowFactory.create("b", "a photo of a dog", null, null, null, null, null));  // seed from id
        rows.add(RowFactory.create(null, "a red circle", 7L, 2, 1.5, null, null));           // id from content
        rows.add(RowFactory.create("d", "a photo of a cat", 1234L, null, null, 16, 24));
        rows.add(RowFactory.create("e", "a photo of a cat", 99L, 2, null, null, null));
        rows.add(RowFactory.create("f", "blue sky", null, null, 2.0, null, null));
        return spark.createDataFrame(rows, INPUT);
    }

    @Test
    void imagesDependOnlyOnTheirRowNotOnPartitioningOrOrder() {
        SparkSession spark = TestSpark.session();
        ImageGenerator generator = ImageGenerator.builder(TestSpark.model()).device("cpu").build();
        Dataset<Row> input = prompts(spark);
        Map<String, byte[]> one = TestSpark.pngs(generator.transform(input.coalesce(1)).collectAsList());
        Map<String, byte[]> three = TestSpark.pngs(generator.transform(input.orderBy(col("prompt").desc())
                .repartition(3)).collectAsList());
        assertEquals(6, one.size());
        assertEquals(one.keySet(), three.keySet());
        for (String id : one.keySet()) {
            assertNotNull(one.get(id), id);
            assertArrayEquals(one.get(id), three.get(id), id);
        }
        // the same bytes as the row generated alone, outside Spark
        try (SdkGenerator alone = SdkGenerator.load(Path.of(TestSpark.model()), "cpu")) {
            assertArrayEquals(alone.generate("a photo of a cat", null, 1234L, null, null, null, null).png(),
                    one.get("a"));
            assertArrayEquals(alone.generate("a photo of a dog", null, PromptRow.derivedSeed("b"), null, null, null,
                    null).png(), one.get("b"));
        }
        assertEquals(1, ExecutorModels.loaded(), "one model per executor JVM");
    }

    @Test
    void outputCarriesSeedSizeAndTimings() {
        SparkSession spark = TestSpark.session();
        List<Row> out = ImageGenerator.builder(TestSpark.model()).device("cpu").build()
                .transform(prompts(spark).filter(col("id").isin("b", "d"))).orderBy("id").collectAsList();
        assertEquals(PromptRow.derivedSeed("b"), (long) out.get(0).getAs("seed"));
        assertEquals(16, (int) out.get(1).getAs("width"));
        assertEquals(24, (int) out.get(1).getAs("height"));
        scala.collection.Map<String, Double> timings = out.get(1).getAs("timings_ms");
        assertTrue(timings.contains("total"), timings.toString());
        assertNull(out.get(0).getAs("error"));
    }

    @Test
    void badRowsGetTheirErrorOrFailTheJob() {
        SparkSession spark = TestSpark.session();
        StructType text = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("seed", DataTypes.StringType).add("steps", DataTypes.StringType)
                .add("width", DataTypes.StringType).add("height", DataTypes.StringType);
        Dataset<Row> input = spark.createDataFrame(List.of(
                RowFactory.create("ok", "a cat", "5", null, null, null),
                RowFactory.create("no-prompt", null, "5", null, null, null),
                RowFactory.create("bad-seed", "a cat", "five", null, null, null),
                RowFactory.create("bad-steps", "a cat", "5", "many", null, null),
                RowFactory.create("bad-width", "a cat", "5", null, "33", "32"),
                RowFactory.create("zero-steps", "a cat", "5", "0", null, null)), text);
        ImageGenerator lenient = ImageGenerator.builder(TestSpark.model()).device("cpu").build();
        Map<String, String> errors = new java.util.HashMap<>();
        for (Row r : lenient.transform(input).collectAsList()) {
            errors.put(r.getAs("id"), r.getAs("error"));
            assertEquals(r.getAs("error") == null, r.getAs("png") != null, r.toString());
        }
        assertNull(errors.get("ok"));
        assertTrue(errors.get("no-prompt").contains("prompt is missing"), errors.get("no-prompt"));
        assertTrue(errors.get("bad-seed").contains("seed 'five'"), errors.get("bad-seed"));
        assertTrue(errors.get("bad-steps").contains("steps 'many'"), errors.get("bad-steps"));
        assertTrue(errors.get("bad-width").contains("33"), errors.get("bad-width"));        // the SDK's message
        assertTrue(errors.get("zero-steps").contains("steps"), errors.get("zero-steps"));

        ImageGenerator strict = ImageGenerator.builder(TestSpark.model()).device("cpu").failOnError(true).build();
        Exception e = assertThrows(Exception.class, () -> strict.transform(input).collectAsList());
        assertTrue(String.valueOf(e.getMessage()).contains("row '"), e.getMessage());
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndGivesTheSameImages() {
        SparkSession spark = TestSpark.session();
        ImageGenerator generator = ImageGenerator.builder(TestSpark.model()).device("cpu").build();
        Dataset<Row> input = prompts(spark).repartition(2);
        Map<String, byte[]> clean = TestSpark.pngs(generator.transform(input).collectAsList());
        int[] failures = {0};
        ImageGenerator.hook = (partition, attempt, id) -> {
            if (partition == 0 && attempt == 0) {
                failures[0]++;
                throw new ImageGenerator.InjectedFault("injected: first attempt of partition 0");
            }
        };
        Map<String, byte[]> retried = TestSpark.pngs(generator.transform(input).collectAsList());
        assertTrue(failures[0] > 0, "the fault was injected");
        assertEquals(clean.keySet(), retried.keySet());
        clean.forEach((id, png) -> assertArrayEquals(png, retried.get(id), id));
    }
}
