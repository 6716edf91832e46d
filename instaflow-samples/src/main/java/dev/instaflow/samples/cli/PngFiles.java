package dev.instaflow.samples.cli;

import dev.instaflow.engine.bundle.StagedDirectory;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * PNG output of {@code generate}: the file names of a batch, the checks on them before any work, and writing a set
 * of images as nearly atomically as a file system allows. All images are encoded into one hidden staging folder
 * beside the targets ({@code .<out name>.partial-<pid>-<uuid>}, see {@link StagedDirectory}), then moved into place
 * by renames within the folder. One image replaces its file atomically. For several, the old files of the set are
 * removed first and the new ones renamed in, so the set on disk is never a mix of two runs: a run killed during those
 * renames leaves part of the new set (whole files) and nothing of the old, with the rest in its staging folder, which
 * the next run with the same {@code --out} deletes (only once its process is gone).
 */
final class PngFiles {
    private static final String EXTENSION = ".png";

    private PngFiles() {
    }

    /** Checks that {@code out} names a PNG file. @throws IllegalArgumentException if it does not */
    static void requirePngName(Path out) {
        Path name = out.getFileName();
        if (name == null || !name.toString().toLowerCase(Locale.ROOT).endsWith(EXTENSION)
                || name.toString().length() == EXTENSION.length()) {
            throw new IllegalArgumentException("--out " + out + ": expected a file name ending in .png");
        }
    }

    /**
     * The files for {@code count} images: {@code out} itself for one image, otherwise {@code NAME-0.png},
     * {@code NAME-1.png}, ... beside it, in batch order. Checks that each can be written: not a folder, and no file
     * where a parent folder must be.
     *
     * @throws IllegalArgumentException if {@code out} is not a PNG name or a file cannot be written there
     */
    static List<Path> names(Path out, int count) {
        requirePngName(out);
        List<Path> names = new ArrayList<>(count);
        if (count == 1) {
            names.add(out);
        } else {
            String file = out.getFileName().toString();
            int dot = file.length() - EXTENSION.length();
            String stem = file.substring(0, dot);
            String extension = file.substring(dot); // as the user wrote it: .png or .PNG
            for (int i = 0; i < count; i++) {
                names.add(out.resolveSibling(stem + "-" + i + extension));
            }
        }
        for (Path target : names) {
            if (Files.isDirectory(target)) {
                throw new IllegalArgumentException("--out " + out + ": " + target + " is a folder; give a file name"
                        + " such as " + target.resolve("image.png"));
            }
        }
        for (Path folder = out.toAbsolutePath().getParent(); folder != null; folder = folder.getParent()) {
            if (Files.exists(folder)) {
                if (!Files.isDirectory(folder)) {
                    throw new IllegalArgumentException("--out " + out + ": " + folder + " is a file, not a folder");
                }
                break;
            }
        }
        return names;
    }

    /**
     * Writes {@code images.get(i)} to {@code targets.get(i)} (files in one folder, named by {@link #names} for
     * {@code out}), creating parent folders. Nothing is replaced until every image is encoded.
     */
    static void write(List<BufferedImage> images, List<Path> targets, Path out) throws IOException {
        if (images.size() != targets.size()) {
            throw new IllegalArgumentException(images.size() + " images for " + targets.size() + " file names");
        }
        StagedDirectory.deleteStale(out);
        try (StagedDirectory staging = StagedDirectory.beside(out)) {
            List<Path> staged = new ArrayList<>(targets.size());
            for (int i = 0; i < targets.size(); i++) {
                Path file = staging.path().resolve(targets.get(i).getFileName().toString());
                if (!ImageIO.write(images.get(i), "png", file.toFile())) {
                    throw new IOException("no PNG writer for image type " + images.get(i).getType());
                }
                staged.add(file);
            }
            if (targets.size() > 1) {
                for (Path target : targets) {
                    Files.deleteIfExists(target);
                }
            }
            for (int i = 0; i < targets.size(); i++) {
                Files.move(staged.get(i), targets.get(i), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }
}
