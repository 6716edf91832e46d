package dev.instaflow.spark;

import dev.instaflow.train.cli.RecipeOptions;
import dev.instaflow.train.data.CaptionSplit;
import dev.instaflow.train.reflow.PairGenerator;
import dev.instaflow.train.reflow.SdkFlow;
import dev.instaflow.train.tokenizer.CaptionIds;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The recipe's pair generation ({@code instaflow train pairs}) as a Spark job: every missing chunk file is one task
 * that calls {@link PairGenerator#generateChunk}, the same code the single-machine command runs per chunk. A chunk
 * is a pure function of (seed, chunk) and the generator's settings, so the files are the same, byte for byte, as
 * the single-machine command's (with the same LibTorch thread count: CPU kernels may split sums by thread), and a
 * run resumes at the missing chunks whichever command made the others. The teacher bundle, the tokenizer and the
 * output folder must be at the same path on every executor (shared storage); each chunk file is written
 * atomically, so a retried or speculative task cannot leave half a file.
 */
public final class SparkPairs {
    private SparkPairs() {
    }

    /**
     * Makes the missing chunks of {@code generator} in {@code outDir} and records their times in its
     * {@code timing.csv}.
     *
     * @param threads LibTorch intra-op threads in each task (as {@code train --threads})
     * @return the number of chunks this run made
     */
    public static int run(SparkSession spark, PairGenerator generator, Path teacherBundle, Path tokenizer,
                          Path outDir, int threads) {
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Integer> missing = new ArrayList<>();
        for (int c = 0; c < generator.chunkCount(); c++) {
            if (!Files.isRegularFile(PairGenerator.chunkFile(outDir, c))) {
                missing.add(c);
            }
        }
        if (missing.isEmpty()) {
            return 0;
        }
        int count = generator.count();
        int chunkSize = generator.chunkSize();
        int batchSize = generator.batchSize();
        int steps = generator.steps();
        double guidance = generator.guidance();
        long seed = generator.seed();
        String bundle = teacherBundle.toAbsolutePath().toString();
        String tokens = tokenizer.toAbsolutePath().toString();
        String out = outDir.toAbsolutePath().toString();
        List<Tuple2<Integer, Double>> made = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(missing, missing.size())
                .map(chunk -> {
                    RecipeOptions.configureRuntime(threads);
                    PairGenerator g = new PairGenerator(count, chunkSize, batchSize, steps, guidance, seed);
                    try (SdkFlow flow = SdkFlow.open(Path.of(bundle))) {
                        double seconds = g.generateChunk(flow, Path.of(out), chunk, CaptionSplit.training(),
                                CaptionIds.load(Path.of(tokens)));
                        return new Tuple2<>(chunk, seconds);
                    }
                }).collect();
        int n = 0;
        for (Tuple2<Integer, Double> m : made) {
            if (!Double.isNaN(m._2())) {
                PairGenerator.recordTiming(outDir, m._1(), m._2());
                n++;
            }
        }
        return n;
    }
}
