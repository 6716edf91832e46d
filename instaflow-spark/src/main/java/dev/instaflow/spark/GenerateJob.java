package dev.instaflow.spark;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * The resumable bulk job behind {@code spark-generate}: prompts file in, images out, rerunnable after a kill.
 *
 * <p><b>Output folder.</b>
 * <pre>
 * DIR/_job.json             model and format of this folder (a rerun with another model is refused)
 * DIR/data/round=NNNNN/     committed rounds, Parquet, one row per id ({@link ImageGenerator#OUTPUT_SCHEMA};
 *                           format png: {@code file} instead of {@code png})
 * DIR/images/ID.png         format png: the images, named by id
 * DIR/manifest.jsonl        format png: every committed row but the bytes, sorted by id
 * DIR/_SUCCESS              written last: every input id is in data/
 * DIR/_staging/             the round being written; present only while a run is writing (or after a kill)
 * </pre>
 *
 * <p><b>Commit protocol.</b> The rows still missing (input ids not in any committed round) are split into rounds
 * of about {@code roundRows} rows by a hash of their id. A round is written by Spark's own committer into
 * {@code _staging/round-UUID} (so a retried task's output replaces its failed attempt's, never adds to it), then
 * renamed in one step to {@code data/round=N}: a round is either wholly committed or absent. A rerun first deletes
 * {@code _staging} (a killed run is detected by it, and by a missing {@code _SUCCESS}), reads the ids of the
 * committed rounds and generates only the others; since ids are unique in the input (checked) and every round
 * holds only ids no committed round has, nothing is ever duplicated. PNG files are named by id and written
 * atomically (temporary name, then rename), so a killed round leaves at most files that the rerun rewrites with the
 * same bytes. Renames are atomic on local file systems and HDFS; on object stores (S3) use a committing file system
 * or a local/HDFS output.
 */
public final class GenerateJob {
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    /** What the job does. */
    public record Options(String input, String inputFormat, String output, String model, String device,
                          String format, int roundRows, int partitions, boolean failOnError) implements Serializable {
        public Options {
            if (!format.equals("parquet") && !format.equals("png")) {
                throw new IllegalArgumentException("--format must be parquet or png, got " + format);
            }
            if (roundRows < 1) {
                throw new IllegalArgumentException("--round-rows must be at least 1, got " + roundRows);
            }
        }
    }

    /**
     * What a run did.
     *
     * @param rows        distinct ids in the input
     * @param alreadyDone of those, committed by earlier runs
     * @param generated   rows this run committed
     * @param errors      committed rows (all runs) with an error
     * @param rounds      rounds this run committed
     * @param interrupted whether an earlier run had been interrupted (staging found or no {@code _SUCCESS})
     */
    public record Result(long rows, long alreadyDone, long generated, long errors, int rounds,
                         boolean interrupted) {
    }

    private GenerateJob() {
    }

    public static Result run(SparkSession spark, Options o, PrintStream notes) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path out = new Path(o.output());
        FileSystem fs = fileSystem(out, conf);
        Path data = new Path(out, "data");
        Path staging = new Path(out, "_staging");
        Path success = new Path(out, "_SUCCESS");
        try {
            fs.mkdirs(out);
            checkJobFile(fs, new Path(out, "_job.json"), o);
            boolean interrupted = false;
            if (fs.exists(staging)) {
                FileStatus[] left = fs.listStatus(staging);
                notes.println("note: an earlier run was interrupted while writing (" + left.length
                        + " uncommitted round(s) in " + staging + "); discarding them");
                fs.delete(staging, true);
                interrupted = true;
            }
            boolean hasData = committedRounds(fs, data).length > 0;
            if (hasData && !fs.exists(success)) {
                interrupted = true;
            }

            Dataset<Row> keyed = PromptRow.asText(read(spark, o)).mapPartitions(
                    (MapPartitionsFunction<Row, Row>) rows -> new Mapped(rows), Encoders.row(PromptRow.KEYED_SCHEMA));
            List<Row> conflicts = keyed.groupBy("id").agg(countDistinct(col("_content")).as("variants"))
                    .filter(col("variants").gt(1)).limit(5).collectAsList();
            if (!conflicts.isEmpty()) {
                List<String> ids = new ArrayList<>();
                conflicts.forEach(r -> ids.add("'" + r.getString(0) + "'"));
                throw new IllegalArgumentException("the input has different rows with the same id: "
                        + String.join(", ", ids) + (conflicts.size() == 5 ? ", ..." : "")
                        + "; ids must be unique (identical rows are one image)");
            }
            Dataset<Row> distinct = keyed.dropDuplicates("id");
            Dataset<Row> pending = distinct;
            if (hasData) {
                Dataset<Row> done = spark.read().parquet(data.toString()).select("id");
                pending = distinct.join(done, distinct.col("id").equalTo(done.col("id")), "left_anti");
            }
            pending = pending.persist(StorageLevel.MEMORY_AND_DISK());
            long rows = distinct.count();
            long todo = pending.count();
            long alreadyDone = rows - todo;
            if (alreadyDone > 0) {
                notes.println("resuming: " + alreadyDone + " of " + rows + " rows are already done");
            }
            int roundsMade = 0;
            if (todo > 0) {
                fs.delete(success, false);
                int rounds = (int) Math.min(Integer.MAX_VALUE, (todo + o.roundRows() - 1) / o.roundRows());
                int partitions = o.partitions() > 0 ? o.partitions() : spark.sparkContext().defaultParallelism();
                ImageGenerator generator = ImageGenerator.builder(o.model()).device(o.device())
                        .failOnError(o.failOnError()).build();
                Column[] text = PromptRow.COLUMNS.stream().map(c -> col(c)).toArray(Column[]::new);
                for (int r = 0; r < rounds; r++) {
                    Dataset<Row> round = rounds == 1 ? pending
                            : pending.filter(pmod(xxhash64(col("id")), lit(rounds)).equalTo(r));
                    Dataset<Row> images = generator.generate(round.select(text).repartition(partitions));
                    if (o.format().equals("png")) {
                        String imagesDir = new Path(out, "images").toString();
                        images = images.mapPartitions((MapPartitionsFunction<Row, Row>) it ->
                                new PngWriter(it, imagesDir), Encoders.row(PNG_SCHEMA));
                    }
                    Path target = new Path(staging, "round-" + UUID.randomUUID());
                    images.write().mode(SaveMode.ErrorIfExists).parquet(target.toString());
                    fs.mkdirs(data);
                    Path committed = new Path(data, String.format(Locale.ROOT, "round=%05d",
                            nextRound(fs, data)));
                    if (!fs.rename(target, committed)) {
                        throw new IOException("could not rename " + target + " to " + committed);
                    }
                    roundsMade++;
                    notes.println("committed " + committed.getName() + " (" + (r + 1) + " of " + rounds + ")");
                }
            }
            pending.unpersist();
            fs.delete(staging, true);
            Dataset<Row> all = spark.read().parquet(data.toString()).drop("round");
            long errors = all.filter(col("error").isNotNull()).count();
            if (o.format().equals("png") && (roundsMade > 0 || !fs.exists(new Path(out, "manifest.jsonl")))) {
                writeManifest(fs, all, out, staging);
            }
            JsonObject summary = new JsonObject();
            summary.addProperty("rows", rows);
            summary.addProperty("errors", errors);
            summary.addProperty("rounds", committedRounds(fs, data).length);
            write(fs, success, GSON.toJson(summary));
            return new Result(rows, alreadyDone, todo, errors, roundsMade, interrupted);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Format png: the committed rows, without the bytes. */
    static final StructType PNG_SCHEMA;

    static {
        StructType s = new StructType();
        for (var f : ImageGenerator.OUTPUT_SCHEMA.fields()) {
            if (f.name().equals("png")) {
                s = s.add("file", DataTypes.StringType, true);
            } else {
                s = s.add(f);
            }
        }
        PNG_SCHEMA = s;
    }

    /** An image's file name: the id when it is a safe name, else {@code _} and the SHA-256 of the id. */
    public static String fileName(String id) {
        return (SAFE_NAME.matcher(id).matches() ? id : "_" + PromptRow.sha256Hex(id).substring(0, 32)) + ".png";
    }

    static Dataset<Row> read(SparkSession spark, Options o) {
        String format = o.inputFormat() != null ? o.inputFormat() : formatOf(o.input());
        switch (format) {
            case "csv":
                return spark.read().option("header", true).option("escape", "\"").option("multiLine", true)
                        .csv(o.input());
            case "jsonl":
            case "json":
                return spark.read().json(o.input());
            case "parquet":
                return spark.read().parquet(o.input());
            default:
                throw new IllegalArgumentException("input format '" + format + "': use csv, jsonl or parquet");
        }
    }

    private static String formatOf(String input) {
        String name = input.toLowerCase(Locale.ROOT);
        for (String ext : List.of("csv", "jsonl", "json", "parquet")) {
            if (name.endsWith("." + ext)) {
                return ext;
            }
        }
        throw new IllegalArgumentException("cannot tell the format of " + input
                + " from its name (.csv, .jsonl, .parquet); pass --input-format");
    }

    private static void checkJobFile(FileSystem fs, Path file, Options o) throws IOException {
        JsonObject job = new JsonObject();
        job.addProperty("model", o.model());
        job.addProperty("format", o.format());
        if (fs.exists(file)) {
            JsonObject old;
            try (InputStream in = fs.open(file)) {
                old = GSON.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8), JsonObject.class);
            }
            for (String key : List.of("model", "format")) {
                if (!job.get(key).equals(old.get(key))) {
                    throw new IllegalArgumentException(file.getParent() + " holds the output of " + key + " "
                            + old.get(key) + ", not " + job.get(key) + "; use another --output or the same --"
                            + key);
                }
            }
            return;
        }
        write(fs, file, GSON.toJson(job));
    }

    private static FileStatus[] committedRounds(FileSystem fs, Path data) throws IOException {
        if (!fs.exists(data)) {
            return new FileStatus[0];
        }
        return Arrays.stream(fs.listStatus(data)).filter(s -> s.isDirectory() && s.getPath().getName()
                .startsWith("round=")).toArray(FileStatus[]::new);
    }

    private static int nextRound(FileSystem fs, Path data) throws IOException {
        int max = 0;
        for (FileStatus s : committedRounds(fs, data)) {
            max = Math.max(max, Integer.parseInt(s.getPath().getName().substring("round=".length())));
        }
        return max + 1;
    }

    /** {@code manifest.jsonl}: every committed row without its bytes, one JSON object per line, sorted by id. */
    private static void writeManifest(FileSystem fs, Dataset<Row> all, Path out, Path staging) throws IOException {
        Path tmp = new Path(staging, "manifest-" + UUID.randomUUID());
        all.orderBy("id").coalesce(1).write().json(tmp.toString());
        FileStatus[] parts = fs.globStatus(new Path(tmp, "part-*"));
        if (parts.length != 1) {
            throw new IOException("expected one manifest part in " + tmp + ", found " + parts.length);
        }
        Path manifest = new Path(out, "manifest.jsonl");
        fs.delete(manifest, false);
        if (!fs.rename(parts[0].getPath(), manifest)) {
            throw new IOException("could not rename " + parts[0].getPath() + " to " + manifest);
        }
        fs.delete(staging, true);
    }

    /** Writes {@code text} to {@code file} via a temporary name and a rename. */
    static void write(FileSystem fs, Path file, String text) throws IOException {
        Path tmp = new Path(file.getParent(), "." + file.getName() + "." + UUID.randomUUID() + ".tmp");
        try (FSDataOutputStream outStream = fs.create(tmp, false)) {
            outStream.write(text.getBytes(StandardCharsets.UTF_8));
        }
        fs.delete(file, false);
        if (!fs.rename(tmp, file)) {
            throw new IOException("could not rename " + tmp + " to " + file);
        }
    }

    static FileSystem fileSystem(Path path, Configuration conf) {
        try {
            URI uri = path.toUri();
            FileSystem fs = uri.getScheme() == null ? FileSystem.get(conf) : FileSystem.get(uri, conf);
            fs.setWriteChecksum(false);     // no .crc files beside the images and job files on local disks
            return fs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds ids and content hashes. */
    private static final class Mapped implements Iterator<Row> {
        private final Iterator<Row> rows;

        Mapped(Iterator<Row> rows) {
            this.rows = rows;
        }

        @Override
        public boolean hasNext() {
            return rows.hasNext();
        }

        @Override
        public Row next() {
            return PromptRow.keyed(rows.next());
        }
    }

    /** Format png: writes each image to {@code images/NAME.png} atomically and passes its row on without bytes. */
    private static final class PngWriter implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final String imagesDir;
        private FileSystem fs;

        PngWriter(Iterator<Row> rows, String imagesDir) {
            this.rows = rows;
            this.imagesDir = imagesDir;
        }

        @Override
        public boolean hasNext() {
            return rows.hasNext();
        }

        @Override
        public Row next() {
            Row row = rows.next();
            int png = ImageGenerator.OUTPUT_SCHEMA.fieldIndex("png");
            String file = null;
            if (!row.isNullAt(png)) {
                file = fileName(row.getString(0));
                try {
                    Path dir = new Path(imagesDir);
                    if (fs == null) {
                        fs = fileSystem(dir, new Configuration());
                        fs.mkdirs(dir);
                    }
                    Path target = new Path(dir, file);
                    TaskContext task = TaskContext.get();
                    Path tmp = new Path(dir, "." + file + "." + (task == null ? 0 : task.taskAttemptId()) + ".tmp");
                    try (FSDataOutputStream outStream = fs.create(tmp, true)) {
                        outStream.write((byte[]) row.get(png));
                    }
                    fs.delete(target, false);     // a killed round's file: the same bytes, rewritten
                    if (!fs.rename(tmp, target)) {
                        throw new IOException("could not rename " + tmp + " to " + target);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                file = "images/" + file;
            }
            Object[] values = new Object[row.length()];
            for (int i = 0; i < values.length; i++) {
                values[i] = i == png ? file : row.get(i);
            }
            return RowFactory.create(values);
        }
    }

}
