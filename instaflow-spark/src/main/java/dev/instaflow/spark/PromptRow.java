package dev.instaflow.spark;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/**
 * One input row, read leniently: every column arrives as text (whatever the file's types), so a bad value becomes
 * this row's error instead of a failed cast or a silent null.
 *
 * <p><b>Identity and seed.</b> A row's {@link #id} is its {@code id} column, or, when that is empty, {@code h}
 * followed by the first 16 hex digits of SHA-256 over its content (prompt, seed, negative prompt, steps, guidance,
 * width, height as given, trimmed but the negative prompt, separated by NUL): identical rows without an id are one image. Its seed is the
 * {@code seed} column, or, when that is empty, the first 8 bytes (big-endian, signed) of SHA-256 over
 * {@code "instaflow-spark/seed/v1\n" + id}. Both are functions of the row alone, so neither partitioning, order nor
 * retries change an image.
 */
public final class PromptRow implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The input columns, all optional except {@code prompt}. */
    public static final List<String> COLUMNS =
            List.of("id", "prompt", "seed", "negative_prompt", "steps", "guidance", "width", "height");

    /** The normalized input: the columns above, each as a string (missing ones null). */
    public static final StructType TEXT_SCHEMA;

    static {
        List<StructField> fields = new ArrayList<>();
        for (String c : COLUMNS) {
            fields.add(DataTypes.createStructField(c, DataTypes.StringType, true));
        }
        TEXT_SCHEMA = DataTypes.createStructType(fields);
    }

    final String id;
    final String prompt;
    final String negativePrompt;
    final Long seed;
    final Integer steps;
    final Double guidance;
    final Integer width;
    final Integer height;
    /** Why this row cannot be generated, or null. */
    final String error;

    private PromptRow(String id, String prompt, String negativePrompt, Long seed, Integer steps, Double guidance,
                      Integer width, Integer height, String error) {
        this.id = id;
        this.prompt = prompt;
        this.negativePrompt = negativePrompt;
        this.seed = seed;
        this.steps = steps;
        this.guidance = guidance;
        this.width = width;
        this.height = height;
        this.error = error;
    }

    /** {@code input} with exactly the {@link #COLUMNS}, as strings; other columns are dropped. */
    public static Dataset<Row> asText(Dataset<Row> input) {
        List<String> present = List.of(input.columns());
        if (!present.contains("prompt")) {
            throw new IllegalArgumentException("the input has no 'prompt' column (columns: " + present + ")");
        }
        Column[] columns = new Column[COLUMNS.size()];
        for (int i = 0; i < columns.length; i++) {
            String c = COLUMNS.get(i);
            columns[i] = (present.contains(c) ? col(c) : lit(null)).cast(DataTypes.StringType).as(c);
        }
        return input.select(columns);
    }

    /** {@link #TEXT_SCHEMA} plus {@code _content}: the SHA-256 of the row's content (the job's duplicate check). */
    static final StructType KEYED_SCHEMA = TEXT_SCHEMA.add("_content", DataTypes.StringType, false);

    /** A {@link #TEXT_SCHEMA} row with its id filled in (given or derived) and its content hash appended. */
    static Row keyed(Row row) {
        Object[] values = new Object[COLUMNS.size() + 1];
        for (int i = 0; i < COLUMNS.size(); i++) {
            values[i] = row.isNullAt(i) ? null : row.getString(i);
        }
        String content = content(row);
        String given = text(row, 0);
        values[0] = given != null ? given : "h" + sha256Hex(content).substring(0, 16);
        values[COLUMNS.size()] = sha256Hex(content);
        return org.apache.spark.sql.RowFactory.create(values);
    }

    /** The row's content as one string: the trimmed texts of every column but {@code id}, NUL-separated. */
    private static String content(Row row) {
        List<String> parts = new ArrayList<>();
        for (int i = 1; i < COLUMNS.size(); i++) {
            parts.add(i == 3 ? (row.isNullAt(3) ? "" : row.getString(3)) : nz(text(row, i)));
        }
        return String.join("\0", parts);
    }

    /** Reads one row of {@link #TEXT_SCHEMA}. Never throws: problems go to {@link #error}. */
    static PromptRow of(Row row) {
        String givenId = text(row, 0);
        String prompt = text(row, 1);
        String seedText = text(row, 2);
        String negative = row.isNullAt(3) ? null : row.getString(3);
        String stepsText = text(row, 4);
        String guidanceText = text(row, 5);
        String widthText = text(row, 6);
        String heightText = text(row, 7);
        String id = givenId != null ? givenId : "h" + sha256Hex(content(row)).substring(0, 16);
        List<String> errors = new ArrayList<>();
        if (prompt == null) {
            errors.add("prompt is missing");
        }
        Long seed = seedText == null ? Long.valueOf(derivedSeed(id)) : parseSeed(seedText, errors);
        Integer steps = parseInt("steps", stepsText, errors);
        Double guidance = null;
        if (guidanceText != null) {
            try {
                guidance = Double.parseDouble(guidanceText);
            } catch (NumberFormatException e) {
                errors.add("guidance '" + guidanceText + "' is not a number");
            }
        }
        Integer width = parseInt("width", widthText, errors);
        Integer height = parseInt("height", heightText, errors);
        if ((width == null) != (height == null) && errors.isEmpty()) {
            errors.add("width and height must be given together");
        }
        return new PromptRow(id, prompt, negative, seed, steps, guidance, width, height,
                errors.isEmpty() ? null : String.join("; ", errors));
    }

    /** The seed of a row that has none: SHA-256 of {@code "instaflow-spark/seed/v1\n" + id}, first 8 bytes. */
    public static long derivedSeed(String id) {
        return ByteBuffer.wrap(sha256(("instaflow-spark/seed/v1\n" + id).getBytes(StandardCharsets.UTF_8)))
                .getLong();
    }

    private static Long parseSeed(String text, List<String> errors) {
        try {
            BigInteger v = new BigInteger(text);
            if (v.bitLength() > 64 || (v.signum() < 0 && v.bitLength() > 63)) {
                errors.add("seed " + text + " is not a 64-bit integer");
                return null;
            }
            return v.longValue();  // unsigned values above 2^63 wrap, as --seed and torch.manual_seed read them
        } catch (NumberFormatException e) {
            errors.add("seed '" + text + "' is not an integer");
            return null;
        }
    }

    private static Integer parseInt(String name, String text, List<String> errors) {
        if (text == null) {
            return null;
        }
        try {
            double d = Double.parseDouble(text);   // "4" and "4.0" (a CSV read with inferred doubles) alike
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                errors.add(name + " '" + text + "' is not an integer");
                return null;
            }
            return (int) d;
        } catch (NumberFormatException e) {
            errors.add(name + " '" + text + "' is not an integer");
            return null;
        }
    }

    private static String text(Row row, int i) {
        if (row.isNullAt(i)) {
            return null;
        }
        String s = row.getString(i).trim();
        return s.isEmpty() ? null : s;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    static String sha256Hex(String s) {
        return HexFormat.of().formatHex(sha256(s.getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "row %s", id);
    }
}
