package dev.instaflow.engine.bundle;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.instaflow.InvalidModelException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one way the SDK reads a file of a bundle (the manifest, tokenizer files, self-test files): only a regular file
 * that lies inside the given folder after resolving symbolic links, only up to a size limit, and with errors that
 * name the file and never quote its content. So a bundle cannot make the SDK read (and echo in a message) a file
 * elsewhere, a FIFO cannot hang a load, and {@code /dev/zero} cannot exhaust the heap. (The one exception: a
 * snapshot in the Hugging Face hub cache links its files to the cache's blobs, see {@link #inHuggingFaceBlobs}.)
 */
@EntryPoint("files inside a model folder, checked: tooling's self-test spec")
public final class BundleFiles {
    /** A manifest is a few kilobytes; 1 MiB leaves room for long descriptions and provenance. */
    public static final long MAX_MANIFEST_BYTES = 1L << 20;
    /** Small JSON files: special_tokens_map.json, tokenizer_config.json, a self-test's selftest.json. */
    public static final long MAX_SMALL_JSON_BYTES = 1L << 20;
    /** vocab.json and merges.txt: CLIP's are 1.6 MB and 0.5 MB; 16 MiB admits vocabularies ten times larger. */
    public static final long MAX_VOCABULARY_BYTES = 16L << 20;
    /** tokenizer.json: CLIP's is 3.6 MB; large multilingual ones (250k tokens) are near 20 MB. */
    public static final long MAX_TOKENIZER_JSON_BYTES = 64L << 20;

    private static final Pattern POSITION = Pattern.compile("line (\\d+) column (\\d+)");

    private BundleFiles() {
    }

    /** Whether {@code file} exists as a directory entry (a dangling or outside link counts: reading it then fails). */
    public static boolean present(Path file) {
        return Files.exists(file, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * The real path of {@code file}, which must be a regular file inside {@code folder} after resolving symbolic
     * links.
     *
     * @param field the manifest field that named the file, or null
     * @throws InvalidModelException naming the file if it is missing, outside the folder or not a regular file
     */
    public static Path regularFileInside(Path folder, Path file, String field) {
        Path realFolder;
        Path real;
        try {
            realFolder = folder.toRealPath();
        } catch (IOException e) {
            throw new InvalidModelException(folder, field, "the folder does not exist or cannot be read", e);
        }
        try {
            real = file.toRealPath();
        } catch (NoSuchFileException e) {
            throw new InvalidModelException(file, field, present(file) ? "is a symbolic link to nothing"
                    : "is missing");
        } catch (IOException e) {
            throw new InvalidModelException(file, field, "cannot be resolved: " + e.getClass().getSimpleName(), e);
        }
        if (!real.startsWith(realFolder) && !inHuggingFaceBlobs(realFolder, real)) {
            throw new InvalidModelException(file, field, "resolves (through a symbolic link) outside " + realFolder
                    + "; the files of a bundle must lie inside it");
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            throw new InvalidModelException(file, field, "is not a regular file (a folder, FIFO, socket or device);"
                    + " expected a file");
        }
        return real;
    }

    /**
     * The one place a link may lead out of a model folder: the Hugging Face hub cache, where a downloaded snapshot
     * ({@code models--ORG--NAME/snapshots/REVISION/...}) holds symbolic links to its repository's content-addressed
     * {@code models--ORG--NAME/blobs/HASH}. Only a target in the {@code blobs} folder of the repository whose
     * {@code snapshots} folder holds {@code realFolder} is accepted.
     */
    static boolean inHuggingFaceBlobs(Path realFolder, Path real) {
        Path blobs = real.getParent();
        if (blobs == null || blobs.getFileName() == null || !blobs.getFileName().toString().equals("blobs")) {
            return false;
        }
        Path repository = blobs.getParent();
        return repository != null && repository.getFileName() != null
                && repository.getFileName().toString().startsWith("models--")
                && realFolder.startsWith(repository.resolve("snapshots"));
    }

    /** The bytes of {@code file} (checked as {@link #regularFileInside}), at most {@code limit} of them. */
    public static byte[] readBytes(Path folder, Path file, String field, long limit) {
        Path real = regularFileInside(folder, file, field);
        try {
            long size = Files.size(real);
            if (size > limit) {
                throw tooLarge(file, field, size, limit);
            }
            try (InputStream in = Files.newInputStream(real)) {
                byte[] bytes = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
                if (bytes.length > limit) {
                    throw tooLarge(file, field, bytes.length, limit); // it grew while being read
                }
                return bytes;
            }
        } catch (IOException e) {
            throw new InvalidModelException(file, field, "cannot be read: " + e.getClass().getSimpleName(), e);
        }
    }

    /** The text of {@code file} (checked as {@link #regularFileInside}), which must be UTF-8. */
    public static String readText(Path folder, Path file, String field, long limit) {
        byte[] bytes = readBytes(folder, file, field, limit);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidModelException(file, field, "is not UTF-8 text");
        }
    }

    /** The JSON object in {@code file} (checked as {@link #regularFileInside}). */
    public static JsonObject readJsonObject(Path folder, Path file, String field, long limit) {
        return parseObject(file, field, readText(folder, file, field, limit));
    }

    /**
     * Parses {@code text} as one JSON object; {@code file} is for messages, which give the position of a syntax error
     * but never the text around it.
     */
    public static JsonObject parseObject(Path file, String field, String text) {
        JsonElement root;
        try {
            root = JsonParser.parseString(text);
        } catch (JsonParseException | StackOverflowError e) {
            String where = "";
            Matcher m = POSITION.matcher(String.valueOf(e.getMessage()));
            if (m.find()) {
                where = " (at line " + m.group(1) + ", column " + m.group(2) + ")";
            }
            throw new InvalidModelException(file, field, "is not valid JSON" + where, e instanceof StackOverflowError
                    ? null : e);
        }
        if (!root.isJsonObject()) {
            throw new InvalidModelException(file, field, "expected a JSON object at the top level");
        }
        return root.getAsJsonObject();
    }

    private static InvalidModelException tooLarge(Path file, String field, long size, long limit) {
        return new InvalidModelException(file, field, "is " + size + " bytes, more than the " + limit + " bytes"
                + (limit >= 1 << 20 ? " (" + (limit >> 20) + " MiB)" : "") + " the SDK reads from such a file; is it"
                + " the right file?");
    }
}
