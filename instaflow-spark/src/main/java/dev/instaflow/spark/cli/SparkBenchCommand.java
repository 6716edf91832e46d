package dev.instaflow.spark.cli;

import dev.instaflow.spark.ImageGenerator;
import dev.instaflow.spark.SdkGenerator;
import dev.instaflow.spark.Sessions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;

/**
 * {@code spark-bench}: images per second of a plain in-process loop and of {@link ImageGenerator} on Spark local
 * masters, same rows, model already loaded (each is run once untimed first), and Spark's overhead per image.
 */
@Command(name = "spark-bench", mixinStandardHelpOptions = true,
        description = "Images per second: plain loop vs Spark local masters, and Spark's overhead per image.")
final class SparkBenchCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model folder.")
    Path model;

    @Option(names = "--rows", defaultValue = "200", description = "Images per measurement (default ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--masters", defaultValue = "local[1],local[2]", split = ",",
            description = "Spark masters to measure (default ${DEFAULT-VALUE}).")
    List<String> masters;

    @Option(names = "--device", defaultValue = "cpu", description = "Device (default ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() {
        String modelPath = model.toAbsolutePath().normalize().toString();
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            prompts.add("a photo of a cat number " + i);
        }
        double plain;
        try (SdkGenerator g = SdkGenerator.load(Path.of(modelPath), device)) {
            loop(g, prompts.subList(0, Math.min(10, rows)));
            long t0 = System.nanoTime();
            loop(g, prompts);
            plain = (System.nanoTime() - t0) / 1e9;
        }
        System.out.println("| run | images | seconds | images/s | ms/image | overhead ms/image vs plain |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        row("plain loop (one thread)", plain, plain);
        for (String master : masters) {
            SparkSession spark = Sessions.create(master, "instaflow spark-bench");
            try {
                int parallel = spark.sparkContext().defaultParallelism();
                ImageGenerator generator = ImageGenerator.builder(modelPath).device(device).build();
                Dataset<Row> input = spark.createDataset(prompts, Encoders.STRING()).toDF("prompt")
                        .withColumn("id", col("prompt")).repartition(parallel).cache();
                input.count();
                force(generator.transform(input.limit(Math.min(10, rows)).repartition(parallel)));
                long t0 = System.nanoTime();
                force(generator.transform(input));
                row("Spark " + master, (System.nanoTime() - t0) / 1e9, plain);
            } finally {
                spark.stop();
            }
        }
        return 0;
    }

    private void row(String name, double seconds, double plain) {
        double ms = seconds * 1000 / rows;
        System.out.println(String.format(Locale.ROOT, "| %s | %d | %.2f | %.1f | %.1f | %+.1f |", name, rows,
                seconds, rows / seconds, ms, ms - plain * 1000 / rows));
    }

    private static void loop(SdkGenerator g, List<String> prompts) {
        for (int i = 0; i < prompts.size(); i++) {
            g.generate(prompts.get(i), null, i, null, null, null, null);
        }
    }

    private static void force(Dataset<Row> images) {
        long bad = images.filter(col("png").isNull()).count();
        if (bad > 0) {
            throw new IllegalStateException(bad + " rows without an image");
        }
    }
}
