package dev.instaflow.engine.bundle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A folder built under a hidden temporary name beside its target ({@code .<name>.partial-*}) and renamed into place
 * only when complete, so the target is either whole or absent: what every command that writes a bundle or a cache
 * folder needs. Closing without {@link #commit()} deletes the partial folder.
 *
 * <pre>{@code
 * try (StagedDirectory staged = StagedDirectory.beside(out)) {
 *     write(staged.path());
 *     staged.commit();
 * }
 * }</pre>
 */
public final class StagedDirectory implements AutoCloseable {
    private final Path target;
    private final Path staging;
    private boolean committed;

    private StagedDirectory(Path target, Path staging) {
        this.target = target;
        this.staging = staging;
    }

    /**
     * Creates the hidden staging folder next to {@code target} (and the parent folders). It is an ordinary folder
     * with the process's default permissions, not a {@code createTempDirectory} one, whose owner-only mode would
     * stay with the bundle after the rename.
     */
    public static StagedDirectory beside(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path parent = Files.createDirectories(absolute.getParent());
        Path staging = parent.resolve("." + absolute.getFileName() + ".partial-" + java.util.UUID.randomUUID());
        return new StagedDirectory(absolute, Files.createDirectory(staging));
    }

    /** The folder to write into. */
    public Path path() {
        return staging;
    }

    /**
     * Renames the staging folder to the target in one atomic step. The target must not exist or be an empty folder.
     *
     * @throws IOException if the target appeared meanwhile (for example another process committed first)
     */
    public Path commit() throws IOException {
        if (Files.isDirectory(target)) {
            try (Stream<Path> entries = Files.list(target)) {
                if (entries.findAny().isEmpty()) {
                    Files.delete(target);
                }
            }
        }
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
        return target;
    }

    /** Deletes the staging folder unless it was committed. */
    @Override
    public void close() {
        if (!committed) {
            deleteTree(staging);
        }
    }

    /** Deletes a folder and everything in it, as far as possible (best effort: leftovers are hidden and inert). */
    public static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // best effort, see above
        }
    }
}
