package dev.instaflow.engine.bundle;

import dev.instaflow.engine.EntryPoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A folder built under a hidden temporary name beside its target ({@code .<name>.partial-<pid>-<uuid>}) and renamed
 * into place only when complete, so the target is either whole or absent: what every command that writes a bundle or
 * a cache folder needs. Closing without {@link #commit()} deletes the partial folder; a process killed before that
 * (kill -9, power loss) leaves it, and {@link #deleteStale} removes such leftovers once their process is gone.
 *
 * <pre>{@code
 * try (StagedDirectory staged = StagedDirectory.beside(out)) {
 *     write(staged.path());
 *     staged.commit();
 * }
 * }</pre>
 */
@EntryPoint("folders written atomically: the CLI's PNG sets and bundles, training's export, the default model")
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
        Path staging = parent.resolve(prefix(absolute) + ProcessHandle.current().pid() + "-"
                + java.util.UUID.randomUUID());
        return new StagedDirectory(absolute, Files.createDirectory(staging));
    }

    private static String prefix(Path absoluteTarget) {
        return "." + absoluteTarget.getFileName() + ".partial-";
    }

    /**
     * Deletes the staging folders of {@code target} ({@code .<name>.partial-<pid>-<uuid>} beside it) whose process
     * has ended: what a killed run left. Folders of running processes, and names not of this form, are kept.
     *
     * @return the folders deleted
     */
    public static java.util.List<Path> deleteStale(Path target) {
        Path absolute = target.toAbsolutePath();
        Path parent = absolute.getParent();
        java.util.List<Path> deleted = new java.util.ArrayList<>();
        if (parent == null || absolute.getFileName() == null || !Files.isDirectory(parent)) {
            return deleted;
        }
        String prefix = prefix(absolute);
        java.util.regex.Pattern own = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(prefix)
                + "(\\d{1,19})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        try (Stream<Path> siblings = Files.list(parent)) {
            for (Path p : (Iterable<Path>) siblings::iterator) {
                java.util.regex.Matcher m = own.matcher(p.getFileName().toString());
                if (!m.matches() || !Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue; // a live process (or one that reused the number): not ours to remove
                }
                deleteTree(p);
                deleted.add(p);
            }
        } catch (IOException e) {
            // best effort: leftovers are hidden and inert
        }
        return deleted;
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
