package dev.instaflow.samples.cli;

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
 * PNG output of {@code generate}: the file names of a batch, and writing that never leaves a half-written file
 * (each image is encoded to a hidden temporary file in the target folder, then renamed into place).
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
     * {@code NAME-1.png}, ... beside it, in batch order.
     */
    static List<Path> names(Path out, int count) {
        requirePngName(out);
        if (count == 1) {
            return List.of(out);
        }
        String file = out.getFileName().toString();
        int dot = file.length() - EXTENSION.length();
        String stem = file.substring(0, dot);
        String extension = file.substring(dot); // as the user wrote it: .png or .PNG
        List<Path> names = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            names.add(out.resolveSibling(stem + "-" + i + extension));
        }
        return names;
    }

    /**
     * Writes {@code images.get(i)} to {@code targets.get(i)}, creating parent folders. All images are encoded
     * before the first rename, so an encoding failure leaves no new file at all.
     */
    static void write(List<BufferedImage> images, List<Path> targets) throws IOException {
        if (images.size() != targets.size()) {
            throw new IllegalArgumentException(images.size() + " images for " + targets.size() + " file names");
        }
        List<Path> temporaries = new ArrayList<>(targets.size());
        try {
            for (int i = 0; i < targets.size(); i++) {
                Path folder = targets.get(i).toAbsolutePath().getParent();
                Files.createDirectories(folder);
                Path tmp = Files.createTempFile(folder, "." + targets.get(i).getFileName() + ".", ".tmp");
                temporaries.add(tmp);
                if (!ImageIO.write(images.get(i), "png", tmp.toFile())) {
                    throw new IOException("no PNG writer for image type " + images.get(i).getType());
                }
            }
            for (int i = 0; i < targets.size(); i++) {
                Files.move(temporaries.get(i), targets.get(i), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            for (Path tmp : temporaries) {
                Files.deleteIfExists(tmp); // the ones not moved: after a failure
            }
        }
    }
}
