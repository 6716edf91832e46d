package dev.instaflow.defaultmodel;

import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.StagedDirectory;

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
import java.util.Optional;

/**
 * The built-in default model: a 3.7 MB one-step model trained by this project (32x32 images of
 * {@code a <colour> <shape> on a <colour> background}; docs/reflow.md), shipped as classpath resources and extracted
 * once to a cache folder, so that it can be loaded like any bundle:
 *
 * <pre>{@code
 * try (InstaFlow model = InstaFlow.load(DefaultModel.path())) {
 *     BufferedImage image = model.generate("a yellow circle on a blue background");
 * }
 * }</pre>
 *
 * <p>The cache folder is {@code <home>/models/default-<first 12 hex digits of sha256(files.txt)>}, where the home is
 * {@code -Dinstaflow.home}, else {@code $INSTAFLOW_HOME}, else {@code ~/.cache/instaflow}: a new model (a new index)
 * gets a new folder; an unchanged one is extracted once. Extraction happens in a hidden sibling folder renamed into
 * place, so the folder is complete or absent; when two processes race, the loser deletes its copy and uses the
 * winner's. This class prints nothing.
 */
public final class DefaultModel {
    /** Classpath folder of the bundle's files. */
    public static final String RESOURCE_FOLDER = "dev/instaflow/samples/default-model/";
    /** The index in {@link #RESOURCE_FOLDER}: the bundle's relative file paths, one per line. */
    public static final String INDEX = "files.txt";
    /** System property naming the InstaFlow home. */
    public static final String HOME_PROPERTY = "instaflow.home";
    /** Environment variable naming the InstaFlow home (when the property is unset). */
    public static final String HOME_VARIABLE = "INSTAFLOW_HOME";

    private DefaultModel() {
    }

    /**
     * The default model's bundle folder, extracted under {@link #home()} on first use.
     *
     * @throws IllegalStateException  if the model's resources are not on the classpath
     * @throws InvalidModelException if a cached folder is damaged
     * @throws UncheckedIOException if extracting fails
     */
    public static Path path() {
        return extract(home(), DefaultModel.class.getClassLoader()).orElseThrow(() -> new IllegalStateException(
                "the built-in default model is not on the classpath (no " + RESOURCE_FOLDER + INDEX
                        + "): add the dev.instaflow:instaflow-default-model jar"));
    }

    /** The InstaFlow home: {@code -Dinstaflow.home}, else {@code $INSTAFLOW_HOME}, else {@code ~/.cache/instaflow}. */
    public static Path home() {
        String configured = System.getProperty(HOME_PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(HOME_VARIABLE);
        }
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "instaflow");
    }

    /**
     * Extracts the bundle that {@code resources} holds under {@link #RESOURCE_FOLDER} into
     * {@code home/models/default-<hash>}, unless that folder is already there.
     *
     * @return the bundle folder, or empty if {@code resources} has no {@link #INDEX}
     */
    public static Optional<Path> extract(Path home, ClassLoader resources) {
        byte[] index;
        try (InputStream in = resources.getResourceAsStream(RESOURCE_FOLDER + INDEX)) {
            index = in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the built-in model's " + RESOURCE_FOLDER + INDEX, e);
        }
        if (index == null) {
            return Optional.empty();
        }
        Path target = home.resolve("models").resolve("default-" + sha256(index).substring(0, 12));
        if (isReady(target)) {
            return Optional.of(target);
        }
        List<String> files = parseIndex(new String(index, StandardCharsets.UTF_8));
        StagedDirectory.deleteStale(target); // what a killed earlier extraction left
        try (StagedDirectory staged = StagedDirectory.beside(target)) {
            for (String file : files) {
                try (InputStream in = resources.getResourceAsStream(RESOURCE_FOLDER + file)) {
                    if (in == null) {
                        throw new InvalidModelException(Path.of(RESOURCE_FOLDER + INDEX), null, "lists '" + file
                                + "', which is not on the classpath");
                    }
                    Path out = staged.path().resolve(file);
                    Files.createDirectories(out.getParent());
                    Files.copy(in, out);
                }
            }
            return Optional.of(publish(staged, target));
        } catch (IOException e) {
            throw new UncheckedIOException("could not extract the built-in model into " + target, e);
        }
    }

    /**
     * Whether {@code target} holds a usable cached bundle.
     *
     * @throws InvalidModelException if the folder exists without a manifest (damaged, or moved in by hand)
     */
    public static boolean isReady(Path target) {
        if (!Files.isDirectory(target)) {
            return false;
        }
        if (!Files.isRegularFile(target.resolve(BundleManifest.FILE_NAME))) {
            throw new InvalidModelException(target, null, "the cached default model has no "
                    + BundleManifest.FILE_NAME + "; delete that folder and run again to rebuild it");
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

    /**
     * The index's paths: relative, '/'-separated, inside the folder; blank lines and {@code #} comments skipped.
     *
     * @throws InvalidModelException for a path leaving the folder, or an index without {@code manifest.json}
     */
    public static List<String> parseIndex(String index) {
        List<String> files = new ArrayList<>();
        for (String line : index.split("\\R")) {
            String file = line.strip();
            if (file.isEmpty() || file.startsWith("#")) {
                continue;
            }
            if (file.startsWith("/") || file.contains("\\") || List.of(file.split("/")).contains("..")) {
                throw new InvalidModelException(Path.of(RESOURCE_FOLDER + INDEX), null, "lists '" + file
                        + "'; expected a relative path inside the folder, with '/' separators");
            }
            files.add(file);
        }
        if (!files.contains(BundleManifest.FILE_NAME)) {
            throw new InvalidModelException(Path.of(RESOURCE_FOLDER + INDEX), null, "does not list "
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
