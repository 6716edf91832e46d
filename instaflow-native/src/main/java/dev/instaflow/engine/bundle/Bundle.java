package dev.instaflow.engine.bundle;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.InvalidModelException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A bundle directory whose manifest has been read and whose part paths have been resolved and checked: each exists
 * and lies inside the directory (after resolving symbolic links), so a manifest cannot make the SDK read files
 * elsewhere.
 */
@EntryPoint("a bundle folder opened and checked: the CLI's inspect and tokenize")
public final class Bundle {
    private final Path directory;
    private final BundleManifest manifest;
    private final Path textEncoder;
    private final Path denoiser;
    private final Path vaeDecoder;
    private final Path tokenizer;
    private final Path refiner;
    private final Path vaeEncoder;

    private Bundle(Path directory, BundleManifest manifest, Path textEncoder, Path denoiser, Path vaeDecoder,
                   Path tokenizer, Path refiner, Path vaeEncoder) {
        this.directory = directory;
        this.manifest = manifest;
        this.textEncoder = textEncoder;
        this.denoiser = denoiser;
        this.vaeDecoder = vaeDecoder;
        this.tokenizer = tokenizer;
        this.refiner = refiner;
        this.vaeEncoder = vaeEncoder;
    }

    /** Opens the bundle in {@code directory}. @throws InvalidModelException naming the file and field at fault */
    public static Bundle open(Path directory) {
        Path dir;
        try {
            dir = directory.toRealPath();
        } catch (IOException e) {
            throw new InvalidModelException(directory, null, "bundle directory does not exist or cannot be read", e);
        }
        if (!Files.isDirectory(dir)) {
            throw new InvalidModelException(dir, null, "expected a bundle directory, found a file");
        }
        Path manifestFile = dir.resolve(BundleManifest.FILE_NAME);
        BundleManifest m = ManifestReader.read(manifestFile);
        BundleManifest.Parts p = m.parts();
        return new Bundle(dir, m,
                resolvePart(dir, manifestFile, "parts.text_encoder", p.textEncoder(), false),
                resolvePart(dir, manifestFile, "parts.denoiser", p.denoiser(), false),
                resolvePart(dir, manifestFile, "parts.vae_decoder", p.vaeDecoder(), false),
                resolvePart(dir, manifestFile, "parts.tokenizer", p.tokenizer(), true),
                p.refiner() == null ? null : resolvePart(dir, manifestFile, "parts.refiner", p.refiner(), false),
                p.vaeEncoder() == null ? null
                        : resolvePart(dir, manifestFile, "parts.vae_encoder", p.vaeEncoder(), false));
    }

    /**
     * Resolves {@code relative} (a path a manifest or settings file gave in {@code field}) inside {@code dir}: it must
     * be relative, exist, and lie inside {@code dir} after resolving {@code ..} and symbolic links.
     *
     * @param folder whether a folder (else a file) is expected
     */
    public static Path resolveInside(Path dir, Path manifestFile, String field, String relative, boolean folder) {
        return resolvePart(dir, manifestFile, field, relative, folder);
    }

    private static Path resolvePart(Path dir, Path manifestFile, String field, String relative, boolean folder) {
        Path given;
        try {
            given = Path.of(relative);
        } catch (java.nio.file.InvalidPathException e) {
            throw new InvalidModelException(manifestFile, field, "\"" + relative + "\" is not a valid path: "
                    + e.getReason());
        }
        if (given.isAbsolute()) {
            throw new InvalidModelException(manifestFile, field, "expected a path relative to the bundle directory,"
                    + " got the absolute path \"" + relative + "\"");
        }
        Path candidate = dir.resolve(given).normalize();
        if (!candidate.startsWith(dir)) {
            throw new InvalidModelException(manifestFile, field, "path \"" + relative
                    + "\" leaves the bundle directory; parts must lie inside it");
        }
        Path real;
        try {
            real = candidate.toRealPath();
        } catch (IOException e) {
            throw new InvalidModelException(manifestFile, field, "names \"" + relative + "\", which does not exist in "
                    + dir);
        }
        if (!real.startsWith(dir)) {
            throw new InvalidModelException(manifestFile, field, "path \"" + relative
                    + "\" resolves (through a symbolic link) to " + real + ", outside the bundle directory");
        }
        if (folder != Files.isDirectory(real)) {
            throw new InvalidModelException(manifestFile, field, "names \"" + relative + "\", which is "
                    + (folder ? "not a folder; expected the tokenizer folder" : "a folder; expected a TorchScript file"));
        }
        return real;
    }

    public Path directory() {
        return directory;
    }

    public Path manifestFile() {
        return directory.resolve(BundleManifest.FILE_NAME);
    }

    public BundleManifest manifest() {
        return manifest;
    }

    public Path textEncoder() {
        return textEncoder;
    }

    public Path denoiser() {
        return denoiser;
    }

    public Path vaeDecoder() {
        return vaeDecoder;
    }

    public Path tokenizer() {
        return tokenizer;
    }

    public Optional<Path> refiner() {
        return Optional.ofNullable(refiner);
    }

    /** The optional VAE encoder part (image inputs). */
    public Optional<Path> vaeEncoder() {
        return Optional.ofNullable(vaeEncoder);
    }
}
