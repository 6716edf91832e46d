package dev.instaflow.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * Dataset of prompts to Dataset of images: {@code ImageGenerator.builder(modelDir).build().transform(prompts)}.
 *
 * <p>Input columns ({@link PromptRow#COLUMNS}, any types, all but {@code prompt} optional): {@code id},
 * {@code prompt}, {@code seed}, {@code negative_prompt}, {@code steps}, {@code guidance}, {@code width},
 * {@code height}. Output ({@link #OUTPUT_SCHEMA}): the row's id (given or derived, see {@link PromptRow}), its
 * settings, {@code png} (the PNG file's bytes), {@code seed} (the seed used), {@code timings_ms} (per stage) and
 * {@code error} (null, or why the row has no image). With {@link Builder#failOnError} a bad row fails its task
 * instead (and, after Spark's retries, the job).
 *
 * <p>The model is loaded once per executor JVM, lazily by the first task that needs it, from a path every executor
 * can read, and shared by all tasks of that JVM ({@link ExecutorModels}). Within a partition rows are generated one
 * request each, in partition order: a request with several prompts has one seed and draws one noise tensor for the
 * whole batch, so its k-th image is not the image its row gets alone; one row, one request keeps every image a
 * function of its row only.
 */
public final class ImageGenerator implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The output columns. */
    public static final StructType OUTPUT_SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("prompt", DataTypes.StringType, true)
            .add("negative_prompt", DataTypes.StringType, true)
            .add("seed", DataTypes.LongType, true)
            .add("steps", DataTypes.IntegerType, true)
            .add("guidance", DataTypes.DoubleType, true)
            .add("width", DataTypes.IntegerType, true)
            .add("height", DataTypes.IntegerType, true)
            .add("png", DataTypes.BinaryType, true)
            .add("timings_ms", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType), true)
            .add("error", DataTypes.StringType, true);

    /** Test hook, called before each row is generated with (partition, attempt, id); local mode only. */
    static volatile RowHook hook;

    private final String modelPath;
    private final String device;
    private final boolean failOnError;

    private ImageGenerator(Builder b) {
        this.modelPath = b.modelPath;
        this.device = b.device;
        this.failOnError = b.failOnError;
    }

    /** {@code modelPath}: a model folder that every executor can read at that same path (shared storage). */
    public static Builder builder(String modelPath) {
        return new Builder(modelPath);
    }

    /** The images of {@code prompts}, one output row per input row, in the same partitions. */
    public Dataset<Row> transform(Dataset<Row> prompts) {
        return generate(PromptRow.asText(prompts));
    }

    /** {@link #transform} of input already in {@link PromptRow#TEXT_SCHEMA}. */
    Dataset<Row> generate(Dataset<Row> textRows) {
        String model = modelPath;
        String dev = device;
        boolean fail = failOnError;
        return textRows.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> new Generating(rows, model, dev,
                fail), Encoders.row(OUTPUT_SCHEMA));
    }

    /** Generates one row (also the job's per-row step). Never throws unless {@code failOnError}. */
    static Row generateRow(PromptRow row, String modelPath, String device, boolean failOnError) {
        String error = row.error;
        SdkGenerator.Image image = null;
        if (error == null) {
            // Outside the try: a model that does not load fails the task (and the job), it is no row's fault.
            SdkGenerator model = ExecutorModels.get(modelPath, device);
            try {
                RowHook h = hook;
                if (h != null) {
                    TaskContext task = TaskContext.get();
                    h.beforeRow(task == null ? -1 : task.partitionId(), task == null ? 0 : task.attemptNumber(),
                            row.id);
                }
                image = model.generate(row.prompt, row.negativePrompt, row.seed,
                        row.steps, row.guidance, row.width, row.height);
            } catch (RuntimeException e) {
                if (e instanceof InjectedFault) {
                    throw e;
                }
                error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            }
        }
        if (error != null && failOnError) {
            throw new IllegalArgumentException("row '" + row.id + "': " + error);
        }
        Map<String, Double> timings = image == null ? null : image.timingsMs();
        return RowFactory.create(row.id, row.prompt, row.negativePrompt, image == null ? row.seed : Long.valueOf(image.seed()),
                row.steps, row.guidance, image == null ? row.width : Integer.valueOf(image.width()),
                image == null ? row.height : Integer.valueOf(image.height()), image == null ? null : image.png(),
                timings == null ? null : scala.jdk.javaapi.CollectionConverters.asScala(timings),
                error);
    }

    /** A partition's rows, generated one at a time as Spark pulls them. */
    private static final class Generating implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final String modelPath;
        private final String device;
        private final boolean failOnError;

        Generating(Iterator<Row> rows, String modelPath, String device, boolean failOnError) {
            this.rows = rows;
            this.modelPath = modelPath;
            this.device = device;
            this.failOnError = failOnError;
        }

        @Override
        public boolean hasNext() {
            return rows.hasNext();
        }

        @Override
        public Row next() {
            if (!rows.hasNext()) {
                throw new NoSuchElementException();
            }
            return generateRow(PromptRow.of(rows.next()), modelPath, device, failOnError);
        }
    }

    /** Builds an {@link ImageGenerator}. */
    public static final class Builder {
        private final String modelPath;
        private String device = "auto";
        private boolean failOnError;

        private Builder(String modelPath) {
            this.modelPath = Objects.requireNonNull(modelPath, "modelPath");
        }

        /** {@code auto} (default), {@code cpu}, {@code cuda}, {@code cuda:N}, or {@code gpu}: the task's Spark GPU. */
        public Builder device(String device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /** Fail the task on a bad row instead of writing the row with its {@code error}. Default false. */
        public Builder failOnError(boolean failOnError) {
            this.failOnError = failOnError;
            return this;
        }

        public ImageGenerator build() {
            return new ImageGenerator(this);
        }
    }

    /** Test hook type. */
    interface RowHook {
        void beforeRow(int partition, int attempt, String id);
    }

    /** What a test hook throws: always fails the task, whatever {@code failOnError} says. */
    static final class InjectedFault extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFault(String message) {
            super(message);
        }
    }
}
