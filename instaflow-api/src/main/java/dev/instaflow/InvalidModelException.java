package dev.instaflow;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A model folder (a bundle or a diffusers snapshot) that cannot be used: a missing or corrupt file, a manifest or
 * config field with the wrong type or value, an unsupported format version, a path that leaves the folder, or a
 * network whose tensors do not have the shape the manifest or config promises. The message always names the file
 * and, where there is one, the field.
 */
public final class InvalidModelException extends InstaFlowException {
    private final Path file;
    private final String field;

    public InvalidModelException(Path file, String field, String problem) {
        this(file, field, problem, null);
    }

    public InvalidModelException(Path file, String field, String problem, Throwable cause) {
        super(describe(file, field, problem), cause);
        this.file = file;
        this.field = field;
    }

    /** The file at fault (a manifest, a part, a tokenizer file, or the bundle directory itself). */
    public Path file() {
        return file;
    }

    /** The manifest field at fault, in dotted form such as {@code latent.scaling_factor}, if the problem has one. */
    public Optional<String> field() {
        return Optional.ofNullable(field);
    }

    private static String describe(Path file, String field, String problem) {
        StringBuilder s = new StringBuilder().append(file);
        if (field != null) {
            s.append(": field '").append(field).append('\'');
        }
        return s.append(": ").append(problem).toString();
    }
}
