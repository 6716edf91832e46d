package dev.instaflow.train.recipe;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.instaflow.train.data.CaptionSplit;
import dev.instaflow.train.data.RgbImage;
import dev.instaflow.train.eval.Evaluator;
import dev.instaflow.train.eval.FrechetDistance;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The recipe's measurements: 1-RF and 2-RF at 1, 2, 4 and 25 Euler steps, and both one-step distillations, each
 * through {@link Evaluator}; written to {@code eval/results.json}, {@code eval/table.md} (the table of
 * {@code docs/reflow.md}) and {@code eval/samples.png} (one row per configuration, one column per held-out
 * caption, the same noise in every row).
 */
public final class RecipeEvaluation {
    /** Euler step counts at which the flows are measured. */
    public static final int[] FLOW_STEPS = {1, 2, 4, 25};

    private RecipeEvaluation() {
    }

    /**
     * Runs every stage that is missing, then measures.
     *
     * @param progress told a line per finished configuration
     */
    public static Path run(Recipe recipe, Evaluator.Setup setup, Consumer<String> progress) {
        RecipeSettings s = recipe.settings();
        recipe.all();
        Path rf1 = recipe.rf1();
        Path rf2 = recipe.rf2();
        Path distilled1 = recipe.distill(Recipe.Teacher.RF1);
        Path distilled2 = recipe.distill(Recipe.Teacher.RF2);

        long started = System.nanoTime();
        Evaluator evaluator = new Evaluator(setup);
        int side = s.model().imageSize();
        List<double[]> real = evaluator.realFeatures(side, 0);
        double realFloor = FrechetDistance.between(evaluator.realFeatures(side, 1), real);
        List<Evaluator.Row> rows = new ArrayList<>();
        // Each flow's fine (25-step) solve first: its end points are the reference of its few-step rows and of the
        // one-step model distilled from it.
        int fine = FLOW_STEPS[FLOW_STEPS.length - 1];
        Evaluator.Row fine1 = measure(evaluator, new Evaluator.Run("1-RF", rf1, fine, s.rf1Guidance()), real, null,
                progress);
        Evaluator.Row fine2 = measure(evaluator, new Evaluator.Run("2-RF", rf2, fine, s.rf2Guidance()), real, null,
                progress);
        for (int i = 0; i < FLOW_STEPS.length - 1; i++) {
            rows.add(measure(evaluator, new Evaluator.Run("1-RF", rf1, FLOW_STEPS[i], s.rf1Guidance()), real,
                    fine1.endpoints(), progress));
        }
        rows.add(fine1);
        for (int i = 0; i < FLOW_STEPS.length - 1; i++) {
            rows.add(measure(evaluator, new Evaluator.Run("2-RF", rf2, FLOW_STEPS[i], s.rf2Guidance()), real,
                    fine2.endpoints(), progress));
        }
        rows.add(fine2);
        rows.add(measure(evaluator, new Evaluator.Run("1-RF + distill", distilled1, 1, 0), real, fine1.endpoints(),
                progress));
        rows.add(measure(evaluator, new Evaluator.Run("2-RF + distill", distilled2, 1, 0), real, fine2.endpoints(),
                progress));
        double evalSeconds = (System.nanoTime() - started) / 1e9;
        Path dir = recipe.work().resolve("eval");
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("results.json"), json(recipe, setup, rows, realFloor, evalSeconds),
                    StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("table.md"), table(recipe, setup, rows, realFloor, evalSeconds),
                    StandardCharsets.UTF_8);
            ImageIO.write(grid(rows), "png", dir.resolve("samples.png").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the evaluation to " + dir, e);
        }
        return dir;
    }

    private static Evaluator.Row measure(Evaluator evaluator, Evaluator.Run run, List<double[]> real,
                                         float[] reference, Consumer<String> progress) {
        Evaluator.Row row = evaluator.measure(run, real, reference, (done, total) -> { });
        progress.accept(String.format(Locale.ROOT, "%-15s %2d step(s): straightness %.4f, distance to ODE %.4f,"
                        + " held-out accuracy %.1f%%, seen accuracy %.1f%%, FD %.3f", run.model(), run.steps(),
                row.straightness(), row.distance(), 100 * row.heldOut().caption(), 100 * row.seen().caption(),
                row.frechet()));
        return row;
    }

    static String table(Recipe recipe, Evaluator.Setup setup, List<Evaluator.Row> rows, double realFloor,
                        double evalSeconds) {
        StringBuilder t = new StringBuilder();
        t.append("| model | Euler steps | guidance | network evaluations | straightness of the flow (25-step"
                + " solve) | distance to the 25-step end point | caption accuracy, held-out | caption accuracy, seen"
                + " | Fréchet distance, held-out |\n");
        t.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Evaluator.Row r : rows) {
            boolean distilled = r.run().model().contains("distill");
            double straightness = rows.stream().filter(o -> o.run().model().equals(r.run().model())
                    && o.run().steps() == FLOW_STEPS[FLOW_STEPS.length - 1]).findFirst()
                    .map(Evaluator.Row::straightness).orElse(Double.NaN);
            t.append(String.format(Locale.ROOT, "| %s | %d | %s | %d | %s | %s | %.1f%% | %.1f%% | %.3f |%n",
                    r.run().model(), r.run().steps(), r.run().guidance() > 1
                            ? String.format(Locale.ROOT, "%.1f", r.run().guidance()) : "off",
                    r.run().evaluations(), distilled ? "—" : String.format(Locale.ROOT, "%.4f", straightness),
                    Double.isNaN(r.distance()) ? "0 (is the reference)" : String.format(Locale.ROOT, "%.4f",
                            r.distance()),
                    100 * r.heldOut().caption(), 100 * r.seen().caption(), r.frechet()));
        }
        t.append(String.format(Locale.ROOT, "| real images (another draw) | | | | | | 100%% by construction |"
                + " 100%% | %.3f |%n", realFloor));
        t.append(String.format(Locale.ROOT, "%nHeld-out: %d captions x %d images; seen: %d captions x %d images;"
                        + " evaluation seed %d.%n", CaptionSplit.heldOut().size(), setup.perHeldOutCaption(),
                CaptionSplit.training().size(), setup.perSeenCaption(), setup.seed()));
        t.append("\n| stage | minutes |\n|---|---:|\n");
        double total = 0;
        for (String stage : new String[] {"rf1", "pairs-rf1", "rf2", "pairs-rf2", "distill-rf2", "distill-rf1"}) {
            double seconds = recipe.seconds(stage).orElse(0.0);
            total += seconds;
            t.append(String.format(Locale.ROOT, "| %s | %.1f |%n", stage, seconds / 60));
        }
        t.append(String.format(Locale.ROOT, "| evaluation | %.1f |%n| **total** | **%.1f** |%n", evalSeconds / 60,
                (total + evalSeconds) / 60));
        return t.toString();
    }

    private static String json(Recipe recipe, Evaluator.Setup setup, List<Evaluator.Row> rows, double realFloor,
                               double evalSeconds) {
        JsonObject root = new JsonObject();
        root.add("settings", recipe.settings().toJson());
        JsonObject setupJson = new JsonObject();
        setupJson.addProperty("per_held_out_caption", setup.perHeldOutCaption());
        setupJson.addProperty("per_seen_caption", setup.perSeenCaption());
        setupJson.addProperty("seed", setup.seed());
        root.add("setup", setupJson);
        JsonArray array = new JsonArray();
        for (Evaluator.Row r : rows) {
            JsonObject o = new JsonObject();
            o.addProperty("model", r.run().model());
            o.addProperty("bundle", r.run().bundle().toString());
            o.addProperty("steps", r.run().steps());
            o.addProperty("guidance", r.run().guidance());
            o.addProperty("evaluations", r.run().evaluations());
            o.addProperty("straightness", r.straightness());
            o.addProperty("distance_to_fine_solve", r.distance());
            o.add("held_out", accuracy(r.heldOut()));
            o.add("seen", accuracy(r.seen()));
            o.addProperty("frechet", r.frechet());
            array.add(o);
        }
        root.add("rows", array);
        root.addProperty("frechet_real_vs_real", realFloor);
        JsonObject seconds = new JsonObject();
        for (String stage : new String[] {"rf1", "pairs-rf1", "rf2", "pairs-rf2", "distill-rf2", "distill-rf1"}) {
            seconds.addProperty(stage, recipe.seconds(stage).orElse(0.0));
        }
        seconds.addProperty("evaluation", evalSeconds);
        root.add("seconds", seconds);
        return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(root) + "\n";
    }

    private static JsonObject accuracy(Evaluator.Accuracy a) {
        JsonObject o = new JsonObject();
        o.addProperty("images", a.images());
        o.addProperty("caption", a.caption());
        o.addProperty("shape", a.shape());
        o.addProperty("foreground", a.foreground());
        o.addProperty("background", a.background());
        return o;
    }

    /** One row per run, one column per held-out caption, each image scaled 2x with a 2 px gap. */
    static BufferedImage grid(List<Evaluator.Row> rows) {
        int cell = rows.get(0).samples().get(0).width() * 2 + 2;
        int columns = rows.get(0).samples().size();
        BufferedImage grid = new BufferedImage(columns * cell, rows.size() * cell, BufferedImage.TYPE_INT_RGB);
        for (int r = 0; r < rows.size(); r++) {
            for (int c = 0; c < columns; c++) {
                RgbImage im = rows.get(r).samples().get(c);
                for (int y = 0; y < im.height() * 2; y++) {
                    for (int x = 0; x < im.width() * 2; x++) {
                        int rgb = (im.red(x / 2, y / 2) << 16) | (im.green(x / 2, y / 2) << 8) | im.blue(x / 2, y / 2);
                        grid.setRGB(c * cell + x, r * cell + y, rgb);
                    }
                }
            }
        }
        return grid;
    }
}
