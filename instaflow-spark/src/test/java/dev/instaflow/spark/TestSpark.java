package dev.instaflow.spark;

import dev.instaflow.engine.testing.TinyBundle;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One SparkSession for every test class of the module (local[2,2]: two task slots, and a failed task is tried once
 * more), and the tiny bundle written once.
 */
final class TestSpark {
    private static SparkSession spark;
    private static Path tiny;

    private TestSpark() {
    }

    static synchronized SparkSession session() {
        if (spark == null) {
            spark = Sessions.create("local[2,2]", "instaflow-spark tests");
            spark.conf().set("spark.sql.shuffle.partitions", "4");
        }
        return spark;
    }

    static synchronized Path tinyBundle() {
        if (tiny == null) {
            try {
                Path dir = Files.createTempDirectory("instaflow-spark-tiny");
                tiny = TinyBundle.create(dir.resolve("tiny"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tiny;
    }

    static String model() {
        return tinyBundle().toAbsolutePath().toString();
    }

    /** id -> png bytes of output rows. */
    static Map<String, byte[]> pngs(List<Row> rows) {
        Map<String, byte[]> m = new HashMap<>();
        for (Row r : rows) {
            Object png = r.getAs("png");
            if (m.put(r.getAs("id"), (byte[]) png) != null) {
                throw new AssertionError("id " + r.getAs("id") + " twice");
            }
        }
        return m;
    }
}
