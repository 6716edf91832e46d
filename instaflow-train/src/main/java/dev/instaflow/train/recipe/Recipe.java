package dev.instaflow.train.recipe;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.engine.bundle.ManifestDefaults;
import dev.instaflow.train.bundle.ModelBundleWriter;
import dev.instaflow.train.data.Caption;
import dev.instaflow.train.data.CaptionSplit;
import dev.instaflow.train.model.ModelConfig;
import dev.instaflow.train.model.TextEncoderNetwork;
import dev.instaflow.train.model.VelocityNetwork;
import dev.instaflow.train.reflow.PairGenerator;
import dev.instaflow.train.reflow.PairSet;
import dev.instaflow.train.tokenizer.CaptionIds;
import dev.instaflow.train.tokenizer.ReducedTokenizer;
import dev.instaflow.train.training.Checkpoint;
import dev.instaflow.train.training.FlowTrainer;
import dev.instaflow.train.training.NetworkPair;
import dev.instaflow.train.training.PairBatches;
import dev.instaflow.train.training.ShapeBatches;
import dev.instaflow.train.training.TimeSampling;
import dev.instaflow.train.training.TrainableModule;
import dev.instaflow.train.training.TrainingListener;
import dev.instaflow.train.training.TrainingSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The InstaFlow recipe in a work folder, one resumable stage at a time:
 * <pre>
 * tokenizer/       the reduced CLIP tokenizer of the caption vocabulary
 * rf1/             (a) 1-rectified flow on the data          -> rf1/bundle
 * pairs-rf1/       (b) reflow pairs (X0, ODE[1-RF](X0))
 * rf2/             (c) 2-rectified flow on those pairs        -> rf2/bundle
 * pairs-rf2/           distillation pairs (X0, ODE[2-RF](X0))
 * distill-rf2/     (d) one-step distillation of 2-RF          -> distill-rf2/bundle
 * distill-rf1/     (d') one-step distillation of 1-RF, from pairs-rf1 -> distill-rf1/bundle (shipped as the
 *                  default model: it measured best, docs/reflow.md)
 * eval/            the measurements ({@link RecipeEvaluation})
 * </pre>
 * Each stage first runs the stages it needs that are not done. The settings are stored in {@code settings.json}
 * on first use; running the same work folder with other settings is refused (it would mix two recipes).
 */
public final class Recipe {
    /** Whose ODE a pair set or a distillation comes from. */
    public enum Teacher {
        RF1("rf1", "1-RF"), RF2("rf2", "2-RF");

        private final String folder;
        private final String label;

        Teacher(String folder, String label) {
            this.folder = folder;
            this.label = label;
        }

        public String folder() {
            return folder;
        }

        public String label() {
            return label;
        }

        public static Teacher parse(String text) {
            switch (text.toLowerCase(Locale.ROOT).replace("-", "")) {
                case "rf1":
                case "1rf":
                    return RF1;
                case "rf2":
                case "2rf":
                    return RF2;
                default:
                    throw new IllegalArgumentException("unknown teacher \"" + text + "\"; expected rf1 or rf2");
            }
        }
    }

    private final Path work;
    private final RecipeSettings settings;
    private final Path clipTokenizer;
    private final TrainingListener listener;

    public Recipe(Path work, RecipeSettings settings, Path clipTokenizer, TrainingListener listener) {
        this.work = work;
        this.settings = settings;
        this.clipTokenizer = clipTokenizer;
        this.listener = listener;
        pinSettings();
    }

    public Path work() {
        return work;
    }

    public RecipeSettings settings() {
        return settings;
    }

    /** The reduced tokenizer folder (derived from the full CLIP tokenizer on first use). */
    public Path tokenizer() {
        Path dir = work.resolve("tokenizer");
        if (!Files.isRegularFile(dir.resolve("tokenizer_config.json"))) {
            if (clipTokenizer == null || !Files.isRegularFile(clipTokenizer.resolve("vocab.json"))) {
                throw new IllegalArgumentException("no CLIP tokenizer (vocab.json + merges.txt) at " + clipTokenizer
                        + "; pass --clip-tokenizer with the tokenizer folder of an SD 1.x model, openai's CLIP"
                        + " files, or the tokenizer/ folder of the shipped default model");
            }
            Path partial = work.resolve("tokenizer.partial");
            ReducedTokenizer.derive(clipTokenizer, Caption.vocabulary(), partial);
            move(partial, dir);
        }
        return dir;
    }

    /** (a) 1-rectified flow on the data; returns its bundle. */
    public Path rf1() {
        Path stage = work.resolve("rf1");
        Path bundle = stage.resolve("bundle");
        TrainingSpec spec = new TrainingSpec("rf1", settings.rf1Steps(), settings.rf1LearningRate(),
                Math.min(200, settings.rf1Steps() / 10), settings.emaDecay(), settings.flowTime(), 1.0,
                checkpointEvery(settings.rf1Steps()), logEvery(settings.rf1Steps()), settings.seed());
        if (finished(stage, spec, bundle)) {
            return bundle;
        }
        CaptionIds ids = CaptionIds.load(tokenizer());
        ModelConfig config = settings.model();
        try (NetworkPair average = FlowTrainer.train(spec, stage, () -> new NetworkPair(
                TrainableModule.of(TextEncoderNetwork.build(config, ids.usedIds(), ids.framing().padId(),
                        settings.seed() + 11)),
                TrainableModule.of(VelocityNetwork.build(config, settings.seed() + 12))),
                new ShapeBatches(config, ids, CaptionSplit.training(), settings.batchSize(), settings.dropCaption(),
                        settings.seed() + 13), listener)) {
            return export(stage, average, ids, new ModelBundleWriter.Defaults("shapes-1rf",
                    "1-rectified flow on the procedural shapes dataset (instaflow-train, docs/reflow.md)",
                    settings.pairSteps(), settings.rf1Guidance()));
        }
    }

    /** (b) pairs from a teacher's ODE, made with the SDK's sampler and the teacher's guidance. */
    public PairSet pairs(Teacher teacher) {
        Path teacherBundle = teacherBundle(teacher);
        CaptionIds ids = CaptionIds.load(tokenizer());
        return pairGenerator(teacher).generate(teacherBundle, pairsDir(teacher), CaptionSplit.training(), ids,
                listener);
    }

    /** The teacher's bundle (trained first if it is not done yet). */
    public Path teacherBundle(Teacher teacher) {
        return teacher == Teacher.RF1 ? rf1() : rf2();
    }

    /** Where {@link #pairs} writes a teacher's pair chunks. */
    public Path pairsDir(Teacher teacher) {
        return work.resolve("pairs-" + teacher.folder());
    }

    /** The generator {@link #pairs} runs for a teacher: its count, chunking, steps, guidance and seed. */
    public PairGenerator pairGenerator(Teacher teacher) {
        return new PairGenerator(settings.pairCount(), 500, 100, settings.pairSteps(),
                teacher == Teacher.RF1 ? settings.rf1Guidance() : settings.rf2Guidance(),
                settings.seed() + (teacher == Teacher.RF1 ? 21 : 22));
    }

    /** (c) 2-rectified flow on 1-RF's pairs, starting from 1-RF's weights; returns its bundle. */
    public Path rf2() {
        Path stage = work.resolve("rf2");
        Path bundle = stage.resolve("bundle");
        TrainingSpec spec = new TrainingSpec("rf2", settings.rf2Steps(), settings.rf2LearningRate(),
                Math.min(100, settings.rf2Steps() / 10), settings.emaDecay(), settings.flowTime(), 1.0,
                checkpointEvery(settings.rf2Steps()), logEvery(settings.rf2Steps()), settings.seed() + 1);
        if (finished(stage, spec, bundle)) {
            return bundle;
        }
        Path teacher = rf1();
        PairSet pairs = pairs(Teacher.RF1);
        CaptionIds ids = CaptionIds.load(tokenizer());
        try (NetworkPair average = FlowTrainer.train(spec, stage, () -> fromBundle(teacher),
                new PairBatches(pairs, ids, settings.batchSize(), settings.dropCaption(), settings.seed() + 14),
                listener)) {
            return export(stage, average, ids, new ModelBundleWriter.Defaults("shapes-2rf",
                    "2-rectified flow (reflow of shapes-1rf on its own guided ODE pairs; instaflow-train,"
                            + " docs/reflow.md)", 4, settings.rf2Guidance()));
        }
    }

    /** (d) / (d') one-step distillation of a teacher from its pairs, starting from its weights. */
    public Path distill(Teacher teacher) {
        Path stage = work.resolve("distill-" + teacher.folder());
        Path bundle = stage.resolve("bundle");
        TrainingSpec spec = new TrainingSpec("distill-" + teacher.folder(), settings.distillSteps(),
                settings.distillLearningRate(), Math.min(100, settings.distillSteps() / 10), settings.emaDecay(),
                TimeSampling.START, 1.0, checkpointEvery(settings.distillSteps()),
                logEvery(settings.distillSteps()), settings.seed() + 2);
        if (finished(stage, spec, bundle)) {
            return bundle;
        }
        Path teacherBundle = teacher == Teacher.RF1 ? rf1() : rf2();
        PairSet pairs = pairs(teacher);
        CaptionIds ids = CaptionIds.load(tokenizer());
        try (NetworkPair average = FlowTrainer.train(spec, stage, () -> fromBundle(teacherBundle),
                new PairBatches(pairs, ids, settings.batchSize(), 0.0, settings.seed() + 15), listener)) {
            String name = teacher == Teacher.RF2 ? "shapes-2rf-distilled" : "shapes-1rf-distilled";
            return export(stage, average, ids, new ModelBundleWriter.Defaults(name, "One-step " + teacher.label()
                    + " distilled from its guided ODE with an L2 loss: draws \"a <colour> <circle|square|triangle> on"
                    + " a <colour> background\" at 32x32 (colours: red, green, blue, yellow, white, black)."
                    + " instaflow-train, docs/reflow.md", 1, 0.0));
        }
    }

    /** Every stage, in order. */
    public void all() {
        rf1();
        pairs(Teacher.RF1);
        rf2();
        pairs(Teacher.RF2);
        distill(Teacher.RF2);
        distill(Teacher.RF1);
    }

    /** Training wall time of a stage folder in seconds (checkpoint or pair timing), if it has run. */
    public Optional<Double> seconds(String folder) {
        Path dir = work.resolve(folder);
        Optional<Checkpoint.State> state = Checkpoint.state(dir);
        if (state.isPresent()) {
            return Optional.of(state.get().seconds());
        }
        return Files.isDirectory(dir) ? Optional.of(PairGenerator.seconds(dir)) : Optional.empty();
    }

    private NetworkPair fromBundle(Path bundle) {
        return new NetworkPair(TrainableModule.load(bundle.resolve(ManifestDefaults.TEXT_ENCODER_FILE)),
                TrainableModule.load(bundle.resolve(ManifestDefaults.DENOISER_FILE)));
    }

    private boolean finished(Path stage, TrainingSpec spec, Path bundle) {
        pinSpec(stage, spec);
        return Files.isRegularFile(bundle.resolve("manifest.json"))
                && Checkpoint.state(stage).map(s -> s.step() >= spec.steps()).orElse(false);
    }

    private Path export(Path stage, NetworkPair average, CaptionIds ids, ModelBundleWriter.Defaults defaults) {
        String seconds = Checkpoint.state(stage).map(s -> String.format(Locale.ROOT, "%.0f", s.seconds())).orElse("?");
        return ModelBundleWriter.write(stage.resolve("bundle"), average, settings.model(), tokenizer(),
                ids.framing(), defaults, Map.of("created_by", "instaflow-train (" + stage.getFileName() + ")",
                        "recipe", settings.toJson().toString(), "training_seconds", seconds,
                        "held_out_captions", String.valueOf(CaptionSplit.heldOut().size())));
    }

    private static int checkpointEvery(int steps) {
        return Math.max(1, Math.min(250, steps));
    }

    private static int logEvery(int steps) {
        return Math.max(1, Math.min(50, steps / 10));
    }

    private void pinSettings() {
        pin(work.resolve("settings.json"), settings.toJson(), "the recipe settings");
    }

    private static void pinSpec(Path stage, TrainingSpec spec) {
        pin(stage.resolve("spec.json"), spec.toJson(), "stage " + spec.stage());
    }

    /** Writes {@code json} to {@code file} on first use; afterwards insists it is unchanged. */
    private static void pin(Path file, JsonObject json, String what) {
        try {
            if (Files.isRegularFile(file)) {
                JsonObject stored = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8))
                        .getAsJsonObject();
                if (!stored.equals(json)) {
                    throw new IllegalStateException(what + " in " + file.getParent() + " was started with " + stored
                            + "; now asked for " + json + ". Use the same options, or a new --work folder");
                }
                return;
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n",
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use " + file, e);
        }
    }

    private static void move(Path from, Path to) {
        try {
            Files.move(from, to);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + from + " to " + to, e);
        }
    }
}
