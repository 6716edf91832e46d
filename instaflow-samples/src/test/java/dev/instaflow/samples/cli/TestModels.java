package dev.instaflow.samples.cli;

import dev.instaflow.engine.bundle.StagedDirectory;
import dev.instaflow.engine.testing.SharedFixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The shared tiny SD-1.5-shaped fixture ({@code ../shared/fixtures/tiny-sd15}) and a bundle made from its parts by
 * the {@code bundle} command itself, built once per test JVM (making one loads and checks it: seconds on 2 cores).
 * Without ../shared the tests fail under {@code CI=true} and are skipped elsewhere.
 */
public final class TestModels {
    private static Path tinyBundle;

    private TestModels() {
    }

    static Path tinySd15() {
        return SharedFixtures.tinySd15();
    }

    /** The threads tests run LibTorch with (Maven passes 1). */
    /** The tiny SD-1.5-shaped diffusers snapshot of the shared fixtures (its VAE has an encoder). */
    public static Path tinySd15Snapshot() {
        return tinySd15().resolve("model");
    }

    static String threads() {
        return System.getProperty("instaflow.test.threads", "1");
    }

    /** The arguments of {@code instaflow bundle} for the tiny fixture, 32x32 by default, into {@code out}. */
    static String[] bundleArgs(Path out) {
        Path f = tinySd15();
        return new String[] {"bundle", "--text-encoder", f.resolve("torchscript/text_encoder.pt").toString(),
            "--denoiser", f.resolve("torchscript/unet.pt").toString(),
            "--vae-decoder", f.resolve("torchscript/vae_decoder.pt").toString(),
            "--tokenizer", f.resolve("model/tokenizer").toString(),
            "--preset", "instaflow", "--name", "tiny-sd15", "--width", "32", "--height", "32",
            "--threads", threads(), "--out", out.toString()};
    }

    /** A bundle of the tiny fixture made by {@code instaflow bundle}; shared, so tests must not change it. */
    public static synchronized Path tinyBundle() {
        if (tinyBundle == null) {
            try {
                Path root = Files.createTempDirectory("instaflow-cli-test-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
                Path bundle = root.resolve("tiny-bundle");
                Cli.Result r = Cli.run(bundleArgs(bundle));
                assertEquals(0, r.exitCode(), r::toString);
                tinyBundle = bundle;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tinyBundle;
    }

    /** A private copy of the tiny bundle, for tests that change it. */
    static Path copyOfTinyBundle(Path target) throws IOException {
        Path source = tinyBundle();
        try (Stream<Path> files = Files.walk(source)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path to = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        return target;
    }

    static void deleteTree(Path root) {
        StagedDirectory.deleteTree(root);
    }
}
