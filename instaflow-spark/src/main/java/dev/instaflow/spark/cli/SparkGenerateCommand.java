package dev.instaflow.spark.cli;

import dev.instaflow.spark.GenerateJob;
import dev.instaflow.spark.Sessions;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code spark-generate}: a prompts file to Parquet (or PNG files plus a manifest), resumable. */
@Command(name = "spark-generate", mixinStandardHelpOptions = true,
        description = "Generate an image per input row on Spark; rerun after a kill to finish (only missing rows"
                + " are generated).")
final class SparkGenerateCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, description = "prompts.csv (with a header), .jsonl or .parquet:"
            + " columns prompt and optionally id, seed, negative_prompt, steps, guidance, width, height.")
    String input;

    @Option(names = "--input-format", description = "csv, jsonl or parquet (default: from the file name).")
    String inputFormat;

    @Option(names = "--output", required = true, description = "Output folder (local, HDFS, ...).")
    String output;

    @Option(names = "--model", required = true, description = "Model folder, at the same path on every executor.")
    Path model;

    @Option(names = "--format", defaultValue = "parquet", description = "parquet (images in the png column) or"
            + " png (DIR/images/ID.png + DIR/manifest.jsonl). Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--master", description = "Spark master, e.g. local[2] (default: spark-submit's, else"
            + " local[*]).")
    String master;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda, cuda:N, or gpu (the GPU"
            + " Spark gives each task). Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--round-rows", defaultValue = "1000", description = "Rows per committed round (what a kill"
            + " can lose at most). Default: ${DEFAULT-VALUE}.")
    int roundRows;

    @Option(names = "--partitions", defaultValue = "0", description = "Partitions per round (default: Spark's"
            + " default parallelism).")
    int partitions;

    @Option(names = "--fail-on-error", description = "Fail the job on a bad row instead of writing its error.")
    boolean failOnError;

    @Override
    public Integer call() {
        String modelPath = model.toAbsolutePath().normalize().toString();
        SparkSession spark = Sessions.create(master, "instaflow spark-generate");
        try {
            GenerateJob.Result r = GenerateJob.run(spark, new GenerateJob.Options(input, inputFormat, output,
                    modelPath, device, format, roundRows, partitions, failOnError), System.err);
            System.out.println(r.rows() + " rows: " + r.alreadyDone() + " already done, " + r.generated()
                    + " generated now, " + r.errors() + " with errors; " + output);
            return 0;
        } finally {
            spark.stop();
        }
    }
}
