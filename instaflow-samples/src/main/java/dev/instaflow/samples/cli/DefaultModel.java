package dev.instaflow.samples.cli;

import dev.instaflow.InstaFlowException;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.StagedDirectory;
import dev.instaflow.engine.demo.DemoBundle;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The model used when no {@code --model} is given, kept in a cache folder under the InstaFlow home
 * ({@code -Dinstaflow.home}, else {@code $INSTAFLOW_HOME}, else {@code ~/.cache/instaflow}):
 * <ul>
 *   <li>If the classpath has the resource folder {@value #RESOURCE_FOLDER} with an index {@value #INDEX} (the
 *       bundle's files, one relative path a line), that bundle is extracted once to
 *       {@code models/default-<first 12 hex digits of sha256(files.txt)>}: a new index gives a new folder.</li>
 *   <li>Otherwise the demo bundle ({@link DemoBundle}, random weights) is built once into
 *       {@code models/demo-v<DemoBundle.VERSION>}.</li>
 * </ul>
 * Either way the folder is made under a temporary name and renamed into place, so it is complete or absent; when two
 * processes race, the loser deletes its copy and uses the winner's.
 */
final class DefaultModel {
    /** Classpath folder of a built-in trained bundle (see docs/cli.md, "Default model"). */
    static final String RESOURCE_FOLDER = "dev/instaflow/samples/default-model/";
    /** The index in {@link #RESOURCE_FOLDER}: the bundle's relative file paths, one per line. */
    static final String INDEX = "files.txt";
    static final String HOME_PROPERTY = "instaflow.home";
    static final String HOME_VARIABLE = "INSTAFLOW_HOME";
    static final String DEMO_NOTE = "note: no --model given; using the built-in demo model (random weights, images are"
            + " not meaningful; see docs/models.md)";

    /**
     * Where a default model lives.
     *
     * @param directory the bundle folder
     * @param demo      whether it is the demo bundle (random weights)
     */
    record Location(Path directory, boolean demo) {
    }

    private final Path models;
    private final ClassLoader resources;

    DefaultModel(Path home, ClassLoader resources) {
        this.models = home.resolve("models");
        this.resources = resources;
    }

    /** The default model as this installation defines it (the home from the environment, this jar's resources). */
    static DefaultModel installed() {
        return new DefaultModel(home(), DefaultModel.class.getClassLoader());
    }

    /** The InstaFlow home: {@code -Dinstaflow.home}, else {@code $INSTAFLOW_HOME}, else {@code ~/.cache/instaflow}. */
    static Path home() {
        String configured = System.getProperty(HOME_PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(HOME_VARIABLE);
        }
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "instaflow");
    }

    /** The default model's folder, extracted or built on first use. */
    Location locate() {
        byte[] index;
        try (InputStream in = resources.getResourceAsStream(RESOURCE_FOLDER + INDEX)) {
            index = in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the built-in model's " + RESOURCE_FOLDER + INDEX, e);
        }
        return index != null ? new Location(extractBuiltIn(index), false) : new Location(buildDemo(), true);
    }

    private Path extractBuiltIn(byte[] index) {
        Path target = models.resolve("default-" + sha256(index).substring(0, 12));
        if (isReady(target)) {
            return target;
        }
        List<String> files = parseIndex(new String(index, StandardCharsets.UTF_8));
        try (StagedDirectory staged = StagedDirectory.beside(target)) {
            for (String file : files) {
                try (InputStream in = resources.getResourceAsStream(RESOURCE_FOLDER + file)) {
                    if (in == null) {
                        throw new InstaFlowException("the built-in model's index " + RESOURCE_FOLDER + INDEX
                                + " lists '" + file + "', which is not on the classpath");
                    }
                    Path out = staged.path().resolve(file);
                    Files.createDirectories(out.getParent());
                    Files.copy(in, out);
                }
            }
            return publish(staged, target);
        } catch (IOException e) {
            throw new UncheckedIOException("could not extract the built-in model into " + target, e);
        }
    }

    private Path buildDemo() {
        Path target = models.resolve("demo-v" + DemoBundle.VERSION);
        if (isReady(target)) {
            return target;
        }
        try {
            return DemoBundle.write(target);
        } catch (UncheckedIOException e) {
            if (isReady(target)) {
                return target; // another process built it first; its copy is as good as ours
            }
            throw e;
        }
    }

    /** A cached folder is used only when complete; an incomplete one (moved in by hand?) is reported, not mended. */
    private static boolean isReady(Path target) {
        if (!Files.isDirectory(target)) {
            return false;
        }
        if (!Files.isRegularFile(target.resolve(BundleManifest.FILE_NAME))) {
            throw new InstaFlowException("the cached default model " + target + " has no " + BundleManifest.FILE_NAME
                    + "; delete that folder and run again to rebuild it");
        }
        return true;
    }

    /** Renames the complete staged folder to {@code target}, or uses another process's if it won. */
    private static Path publish(StagedDirectory staged, Path target) throws IOException {
        try {
            return staged.commit();
        } catch (IOException e) {
            if (Files.isRegularFile(target.resolve(BundleManifest.FILE_NAME))) {
                return target; // another process got there first; its copy is as good as ours
            }
            throw e;
        }
    }

    /** The index's paths: relative, '/'-separated, inside the folder; blank lines and {@code #} comments skipped. */
    static List<String> parseIndex(String index) {
        List<String> files = new ArrayList<>();
        for (String line : index.split("\\R")) {
            String file = line.strip();
            if (file.isEmpty() || file.startsWith("#")) {
                continue;
            }
            if (file.startsWith("/") || file.contains("\\") || List.of(file.split("/")).contains("..")) {
                throw new InstaFlowException("the built-in model's index " + RESOURCE_FOLDER + INDEX + " lists '"
                        + file + "'; expected a relative path inside the folder, with '/' separators");
            }
            files.add(file);
        }
        if (!files.contains(BundleManifest.FILE_NAME)) {
            throw new InstaFlowException("the built-in model's index " + RESOURCE_FOLDER + INDEX + " does not list "
                    + BundleManifest.FILE_NAME);
        }
        return files;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
