package dev.instaflow.samples.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.instaflow.Generation;
import dev.instaflow.GenerationSettings;
import dev.instaflow.ModelInfo;
import dev.instaflow.Generation.PromptTokens;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What {@code generate} did, as one JSON object ({@code --json}) or a short human summary: enough to reproduce every
 * image (seed, sampler, steps, guidance, size) and to see where the time went.
 *
 * @param model           the loaded model
 * @param generation      the result
 * @param imagesPerPrompt the {@code --num-images} value
 * @param files           the PNG files written, in batch order
 * @param loadMillis      model loading, measured by the CLI
 * @param writeMillis     PNG encoding and writing, measured by the CLI
 */
record GenerationReport(ModelInfo model, Generation generation, int imagesPerPrompt, List<Path> files,
                        double loadMillis, double writeMillis) {

    String toJson() {
        Generation g = generation;
        GenerationSettings used = g.settings();
        JsonObject o = new JsonObject();
        o.addProperty("model", model.name());
        o.addProperty("model_dir", model.directory().toString());
        o.addProperty("device", model.device().toString());
        if (used.seed().isPresent()) {
            // torch reads the seed as unsigned 64-bit; print it that way so it can be passed back to --seed.
            o.addProperty("seed", new BigInteger(Long.toUnsignedString(used.seed().getAsLong())));
        }
        JsonArray prompts = new JsonArray();
        for (PromptTokens p : g.prompts()) {
            JsonObject prompt = new JsonObject();
            prompt.addProperty("text", p.text());
            prompt.addProperty("tokens", p.tokenCount());
            prompt.addProperty("kept_tokens", p.keptTokens());
            prompt.addProperty("truncated", p.truncated());
            prompts.add(prompt);
        }
        o.add("prompts", prompts);
        o.addProperty("negative_prompt", used.negativePrompt());
        o.addProperty("sampler", used.sampler().id());
        o.addProperty("steps", used.steps());
        o.addProperty("guidance", used.guidance());
        o.addProperty("guided", used.guided());
        o.addProperty("width", used.width());
        o.addProperty("height", used.height());
        o.addProperty("num_images", imagesPerPrompt);
        o.addProperty("total_images", g.images().size());
        JsonArray written = new JsonArray();
        files.forEach(f -> written.add(f.toString()));
        o.add("files", written);
        if (used.image().isPresent()) {
            o.addProperty("strength", used.strength());
            o.addProperty("masked", used.masked());
        }
        o.addProperty("denoiser_evaluations", g.denoiserEvaluations());
        o.addProperty("refiner_evaluations", g.refinerEvaluations());
        JsonObject timings = new JsonObject();
        timings.addProperty("load", round(loadMillis));
        g.timings().toMillis().forEach((stage, millis) -> timings.addProperty(stage, round(millis)));
        timings.addProperty("write", round(writeMillis));
        o.add("timings_ms", timings);
        return new GsonBuilder().disableHtmlEscaping().create().toJson(o);
    }

    /** A few lines for people: the files, how to reproduce them, and the time per stage. */
    String summary() {
        GenerationSettings used = generation.settings();
        StringBuilder s = new StringBuilder();
        for (Path f : files) {
            s.append("wrote ").append(f).append('\n');
        }
        s.append(String.format(Locale.ROOT, "%s on %s: seed %s, %dx%d, %s %d step(s), guidance %s%n", model.name(),
                model.device(), used.seed().isPresent() ? Long.toUnsignedString(used.seed().getAsLong()) : "caller noise",
                used.width(), used.height(), used.sampler().id(), used.steps(), number(used.guidance())));
        if (used.image().isPresent()) {
            s.append(String.format(Locale.ROOT, "from the init image at strength %s%s%n",
                    number(used.strength()), used.masked() ? ", masked" : ""));
        }
        Map<String, Double> stages = generation.timings().toMillis();
        String detail = stages.entrySet().stream().filter(e -> !e.getKey().equals("total"))
                .map(e -> e.getKey() + " " + tenths(e.getValue()))
                .collect(Collectors.joining(", "));
        s.append(String.format(Locale.ROOT, "time: load %s ms, generate %s ms (%s), write %s ms%n",
                tenths(loadMillis), tenths(stages.get("total")), detail, tenths(writeMillis)));
        return s.toString();
    }

    private static double round(double millis) {
        return Math.round(millis * 1000.0) / 1000.0;
    }

    private static String tenths(double millis) {
        return String.format(Locale.ROOT, "%.1f", millis);
    }

    private static String number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? String.valueOf((long) value)
                : String.valueOf(value);
    }
}
