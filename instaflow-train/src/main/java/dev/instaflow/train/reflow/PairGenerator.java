package dev.instaflow.train.reflow;

import dev.instaflow.Sampler;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.train.data.Caption;
import dev.instaflow.train.tokenizer.CaptionIds;
import dev.instaflow.train.training.BatchSource;
import dev.instaflow.train.training.TrainingListener;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Makes reflow pairs {@code (X0, ODE[v](X0))}: fresh Gaussian noise X0 and a training caption per pair, run through
 * a trained bundle with the SDK's Euler sampler and classifier-free guidance ({@link SdkFlow}). Written in chunks
 * ({@code chunk-0000.pt}, ...), each a pure function of (seed, chunk), so an interrupted run resumes at the first
 * missing chunk. {@code timing.csv} records the seconds each chunk took.
 *
 * @param count     pairs to make
 * @param chunkSize pairs per chunk file
 * @param batchSize pairs per sampler call
 * @param steps     Euler steps of the ODE solve
 * @param guidance  classifier-free guidance scale (above 1 to guide)
 * @param seed      seed of the noise and caption draws
 */
public record PairGenerator(int count, int chunkSize, int batchSize, int steps, double guidance, long seed) {
    /** Per made chunk: its index and the seconds it took. */
    private static final String TIMING = "timing.csv";

    /** Makes the missing chunks in {@code outDir} and returns all pairs. */
    public PairSet generate(Path bundleDir, Path outDir, List<Caption> captions, CaptionIds ids,
                            TrainingListener listener) {
        int chunks = (count + chunkSize - 1) / chunkSize;
        long started = System.nanoTime();
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Path> files = new ArrayList<>();
        try (SdkFlow flow = SdkFlow.open(bundleDir)) {
            for (int c = 0; c < chunks; c++) {
                files.add(chunkFile(outDir, c));
                double seconds = generateChunk(flow, outDir, c, captions, ids);
                if (!Double.isNaN(seconds)) {
                    recordTiming(outDir, c, seconds);
                    listener.onStep("pairs", Math.min(count, (long) (c + 1) * chunkSize), count, Double.NaN,
                            (System.nanoTime() - started) / 1e9);
                }
            }
        }
        List<PairSet> parts = new ArrayList<>();
        for (Path f : files) {
            parts.add(PairSet.load(f));
        }
        return PairSet.concat(parts);
    }

    /** How many chunk files {@code count} pairs take. */
    public int chunkCount() {
        return (count + chunkSize - 1) / chunkSize;
    }

    /** The file of chunk {@code chunk} in {@code outDir}. */
    public static Path chunkFile(Path outDir, int chunk) {
        return outDir.resolve(String.format("chunk-%04d.pt", chunk));
    }

    /**
     * Makes chunk {@code chunk} in {@code outDir} unless its file exists: a pure function of (seed, chunk) and this
     * generator's settings, so any machine may make any chunk (what {@link #generate} does for each, and what a
     * sharded run calls per shard). The file is written atomically.
     *
     * @return the seconds it took, or NaN when the file was already there
     */
    public double generateChunk(SdkFlow flow, Path outDir, int chunk, List<Caption> captions, CaptionIds ids) {
        if (chunk < 0 || chunk >= chunkCount()) {
            throw new IllegalArgumentException("chunk " + chunk + " is outside 0.." + (chunkCount() - 1));
        }
        Path file = chunkFile(outDir, chunk);
        if (Files.isRegularFile(file)) {
            return Double.NaN;
        }
        int channels = flow.manifest().latent().channels();
        int side = flow.manifest().image().defaultWidth() / flow.manifest().latent().vaeScaleFactor();
        int n = Math.min(chunkSize, count - chunk * chunkSize);
        long chunkStart = System.nanoTime();
        makeChunk(flow, file, chunk, n, channels, side, captions, ids);
        return (System.nanoTime() - chunkStart) / 1e9;
    }

    /** Seconds spent making the pairs in {@code outDir}, summed over the chunks (and sessions) that made them. */
    public static double seconds(Path outDir) {
        Path file = outDir.resolve(TIMING);
        if (!Files.isRegularFile(file)) {
            return 0;
        }
        try {
            return Files.readAllLines(file).stream().filter(l -> !l.isBlank())
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(',') + 1))).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Appends one line (chunk, seconds) to {@code timing.csv}, which {@link #seconds} sums. */
    public static void recordTiming(Path outDir, int chunk, double seconds) {
        try {
            Files.writeString(outDir.resolve(TIMING), String.format(java.util.Locale.ROOT, "%d,%.2f%n", chunk,
                    seconds), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void makeChunk(SdkFlow flow, Path file, int chunk, int n, int channels, int side, List<Caption> captions,
                           CaptionIds ids) {
        SplittableRandom random = new SplittableRandom(BatchSource.mix(seed, chunk, 5));
        List<String> prompts = new ArrayList<>(n);
        long[] rows = new long[n];
        for (int i = 0; i < n; i++) {
            Caption caption = captions.get(random.nextInt(captions.size()));
            prompts.add(caption.text());
            rows[i] = ids.rowOf(caption);
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Tensor x0 = torch.randn(new long[] {n, channels, side, side},
                    new GeneratorOptional(torch.createCPUGenerator(BatchSource.mix(seed, chunk, 6))),
                    new TensorOptions(ScalarType.Float));
            TensorVector ends = new TensorVector();
            for (int start = 0; start < n; start += batchSize) {
                int m = Math.min(batchSize, n - start);
                ends.push_back(flow.sample(prompts.subList(start, start + m), x0.narrow(0, start, m),
                        Sampler.euler(), steps, guidance, (i, total, latents) -> { }));
            }
            new PairSet(x0, torch.cat(ends), Tensors.fromLongs(rows, n)).save(file);
        }
    }
}
