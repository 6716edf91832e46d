package dev.instaflow.engine;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.InstaFlowException;
import dev.instaflow.Sampler;
import dev.instaflow.engine.testing.TinyBundle;
import dev.instaflow.engine.testing.TorchArchives;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damages the tiny bundle at random (manifest fields and values, part files, tokenizer files) and checks that every
 * case ends cleanly: an {@link InstaFlowException} or {@link IllegalArgumentException} at load or generation, or a
 * load whose generation gives exactly the undamaged bundle's image. Anything else fails the test: another
 * exception type, a different image (a silent wrong image), or a case running past its timeout (a hang). A JVM
 * crash ends the test run; {@code target/fuzz-current-case.txt} then names the case that caused it.
 *
 * <p>{@code -Dinstaflow.fuzz.cases=N} (default 200, what CI runs; see docs/reliability.md for timings),
 * {@code -Dinstaflow.fuzz.seed=S} (default 1). The result table goes to {@code target/fuzz-report.md}. See
 * docs/reliability.md for what the mutations are and are not.
 */
class BundleFuzzTest {
    static final int DEFAULT_CASES = 200;
    static final long CASE_TIMEOUT_S = 60;

    enum Outcome { CLEAN_AT_LOAD, CLEAN_AT_GENERATE, SAME_IMAGE, SILENT_WRONG_IMAGE, UNEXPECTED_EXCEPTION, HANG }

    record Mutation(String kind, String description, Consumer<Path> apply) {
    }

    @TempDir
    Path temp;

    static final GenerationRequest REQUEST = GenerationRequest.builder().prompt("a photo of a cat").seed(7)
            .steps(1).guidance(0.0).sampler(Sampler.euler()).size(32, 32).imagesPerPrompt(1).build();

    @Test
    void damagedBundlesFailCleanlyOrGenerateTheSameImage() throws Exception {
        int cases = Integer.getInteger("instaflow.fuzz.cases", DEFAULT_CASES);
        long seed = Long.getLong("instaflow.fuzz.seed", 1L);
        Path pristine = TinyBundle.create(temp.resolve("pristine"));
        byte[] reference;
        try (InstaFlow model = InstaFlow.load(pristine, TestSettings.loadOptions())) {
            reference = pixels(model.generate(REQUEST));
        }
        JsonObject manifest = JsonParser.parseString(Files.readString(pristine.resolve("manifest.json")))
                .getAsJsonObject();
        List<String> leaves = new ArrayList<>();
        leafPaths(manifest, "", leaves);

        Random random = new Random(seed);
        Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
        Map<String, Map<Outcome, Integer>> byKind = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        Path current = Path.of("target", "fuzz-current-case.txt");
        Files.createDirectories(current.getParent());
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-case");
            t.setDaemon(true);
            return t;
        });
        long start = System.nanoTime();
        try {
            for (int i = 0; i < cases; i++) {
                Mutation m = mutation(random, manifest, leaves);
                Path dir = temp.resolve("case" + i);
                linkCopy(pristine, dir);
                m.apply().accept(dir);
                Files.writeString(current, "case " + i + " (seed " + seed + "): " + m.kind() + ": "
                        + m.description() + "\n");
                Future<Object> run = worker.submit(() -> runCase(dir));
                Outcome outcome;
                String detail;
                try {
                    Object result = run.get(CASE_TIMEOUT_S, TimeUnit.SECONDS);
                    if (result instanceof byte[] image) {
                        outcome = Arrays.equals(image, reference) ? Outcome.SAME_IMAGE : Outcome.SILENT_WRONG_IMAGE;
                        detail = "generated";
                    } else {
                        Throwable t = (Throwable) result;
                        boolean atLoad = t instanceof LoadFailure;
                        Throwable e = atLoad ? t.getCause() : t;
                        boolean clean = e instanceof InstaFlowException || e instanceof IllegalArgumentException;
                        outcome = !clean ? Outcome.UNEXPECTED_EXCEPTION
                                : atLoad ? Outcome.CLEAN_AT_LOAD : Outcome.CLEAN_AT_GENERATE;
                        detail = e.getClass().getSimpleName() + ": " + e.getMessage();
                    }
                } catch (TimeoutException e) {
                    run.cancel(true);
                    outcome = Outcome.HANG;
                    detail = "no result after " + CASE_TIMEOUT_S + " s";
                }
                counts.merge(outcome, 1, Integer::sum);
                byKind.computeIfAbsent(m.kind(), k -> new EnumMap<>(Outcome.class)).merge(outcome, 1, Integer::sum);
                if (outcome == Outcome.SILENT_WRONG_IMAGE || outcome == Outcome.UNEXPECTED_EXCEPTION
                        || outcome == Outcome.HANG) {
                    failures.add("case " + i + " " + m.kind() + " (" + m.description() + "): " + outcome + ": "
                            + detail);
                }
                deleteTree(dir);
                if ((i + 1) % 25 == 0 && i + 1 < cases) { // a partial table, in case a long run is stopped
                    Files.writeString(Path.of("target", "fuzz-report.md"), "(partial) " + report(i + 1, seed,
                            (System.nanoTime() - start) / 1e9, counts, byKind, failures));
                }
            }
        } finally {
            worker.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String report = report(cases, seed, seconds, counts, byKind, failures);
        Files.writeString(Path.of("target", "fuzz-report.md"), report);
        Files.deleteIfExists(current);
        assertTrue(failures.isEmpty(), report);
    }

    /** Loads and generates; returns the pixels, or the exception (wrapped in LoadFailure when load threw). */
    private static Object runCase(Path dir) {
        InstaFlow model;
        try {
            model = InstaFlow.load(dir, TestSettings.loadOptions());
        } catch (Throwable e) {
            return new LoadFailure(e);
        }
        try (model) {
            return pixels(model.generate(REQUEST));
        } catch (Throwable e) {
            return e;
        }
    }

    private static final class LoadFailure extends Exception {
        LoadFailure(Throwable cause) {
            super(cause);
        }
    }

    private static byte[] pixels(Generation g) {
        BufferedImage image = g.images().get(0);
        return ((DataBufferByte) image.getRaster().getDataBuffer()).getData().clone();
    }

    // ---- mutations ----

    private static final String[] PARTS = {"text_encoder.pt", "unet.pt", "vae_decoder.pt"};
    private static final String[] TOKENIZER_FILES = {"vocab.json", "merges.txt", "special_tokens_map.json",
        "tokenizer_config.json"};
    /** Model constants whose plausible values cannot be told from the right one without a checksum (see docs). */
    private static final List<String> REAL_CONSTANTS = List.of("prediction.time_scale", "latent.scaling_factor");

    private static Mutation mutation(Random r, JsonObject manifest, List<String> leaves) {
        int kind = r.nextInt(100);
        if (kind < 40) {
            return manifestMutation(r, manifest, leaves);
        }
        if (kind < 70) {
            return partMutation(r);
        }
        return tokenizerMutation(r);
    }

    private static Mutation manifestMutation(Random r, JsonObject pristine, List<String> leaves) {
        int choice = r.nextInt(10);
        if (choice == 0) {
            String key = leaves.get(r.nextInt(leaves.size()));
            return manifestEdit("manifest: remove field", key, m -> remove(m, key));
        }
        if (choice == 1) {
            return manifestEdit("manifest: unknown field", "added_by_fuzz", m -> m.addProperty("added_by_fuzz", 1));
        }
        if (choice == 2) {
            long seedBytes = r.nextLong();
            return new Mutation("manifest: truncate", "at a random byte", dir -> {
                byte[] bytes = read(dir.resolve("manifest.json"));
                write(dir.resolve("manifest.json"), Arrays.copyOf(bytes, new Random(seedBytes).nextInt(bytes.length)));
            });
        }
        if (choice == 3) {
            long seedBytes = r.nextLong();
            return new Mutation("manifest: flip structural byte", "a brace, bracket, quote, colon or comma", dir -> {
                byte[] bytes = read(dir.resolve("manifest.json"));
                Random rr = new Random(seedBytes);
                List<Integer> structural = new ArrayList<>();
                for (int i = 0; i < bytes.length; i++) {
                    if ("{}[]\":,".indexOf(bytes[i]) >= 0) {
                        structural.add(i);
                    }
                }
                int at = structural.get(rr.nextInt(structural.size()));
                bytes[at] ^= (byte) (1 << rr.nextInt(8));
                write(dir.resolve("manifest.json"), bytes);
            });
        }
        String key = leaves.get(r.nextInt(leaves.size()));
        JsonElement original = get(pristine, key);
        JsonElement value = corruptValue(r, key, original);
        return manifestEdit("manifest: value", key + " = " + value, m -> set(m, key, value));
    }

    /** A value of another type, out of range, extreme, or (for integers) one off; never a plausible real constant. */
    private static JsonElement corruptValue(Random r, String key, JsonElement original) {
        List<JsonElement> pool = new ArrayList<>(List.of(JsonNull.INSTANCE, new JsonPrimitive(""),
                new JsonPrimitive("x"), new JsonPrimitive(true), new JsonArray(), new JsonObject(), new JsonPrimitive(0),
                new JsonPrimitive(-1), new JsonPrimitive(0.5), new JsonPrimitive(1e-30), new JsonPrimitive(1e30),
                new JsonPrimitive(1e308), new JsonPrimitive(-1e308), new JsonPrimitive(2147483648L),
                new JsonPrimitive(new java.math.BigDecimal("1e100000")),
                new JsonPrimitive(new java.math.BigInteger("9223372036854775808")),
                new JsonPrimitive("float16"), new JsonPrimitive("cuda"), new JsonPrimitive("epsilon"),
                new JsonPrimitive("flowturbo:H1P1R1"), new JsonPrimitive("../unet.pt"), new JsonPrimitive("/etc/passwd"),
                new JsonPrimitive("unet.pt"), new JsonPrimitive("vae_decoder.pt"), new JsonPrimitive("tokenizer"),
                new JsonPrimitive("text_encoder.pt")));
        if (original.isJsonPrimitive() && original.getAsJsonPrimitive().isNumber()
                && !REAL_CONSTANTS.contains(key)) {
            long v = original.getAsLong();
            pool.add(new JsonPrimitive(v + 1));
            pool.add(new JsonPrimitive(v - 1));
            pool.add(new JsonPrimitive(v * 2));
            pool.add(new JsonPrimitive(v + 0.5));
        }
        JsonElement value = pool.get(r.nextInt(pool.size()));
        if (REAL_CONSTANTS.contains(key) && value.isJsonPrimitive() && value.getAsJsonPrimitive().isNumber()) {
            double d = value.getAsDouble();
            if (d >= 1e-3 && d <= 1e6) {
                value = new JsonPrimitive(1e30); // a plausible constant is another model's, not corruption
            }
        }
        return value;
    }

    private static Mutation partMutation(Random r) {
        String part = PARTS[r.nextInt(PARTS.length)];
        long s = r.nextLong();
        int choice = r.nextInt(6);
        switch (choice) {
            case 0:
                return new Mutation("part: truncate", part, dir -> {
                    byte[] bytes = read(dir.resolve(part));
                    write(dir.resolve(part), Arrays.copyOf(bytes, new Random(s).nextInt(bytes.length)));
                });
            case 1:
            case 2:
                return new Mutation("part: bit flips (stale CRC)", part, dir -> {
                    byte[] bytes = read(dir.resolve(part));
                    Random rr = new Random(s);
                    int flips = 1 + rr.nextInt(8);
                    for (int k = 0; k < flips; k++) {
                        int at = rr.nextInt(bytes.length);
                        bytes[at] ^= (byte) (1 << rr.nextInt(8));
                    }
                    write(dir.resolve(part), bytes);
                });
            case 3:
                return new Mutation("part: short record (valid CRC)", part, dir -> {
                    Path file = dir.resolve(part);
                    List<TorchArchives.Record> records = TorchArchives.records(file).stream()
                            .filter(rec -> rec.name().contains("/data/") && rec.length() > 0).toList();
                    Random rr = new Random(s);
                    TorchArchives.Record rec = records.get(rr.nextInt(records.size()));
                    int keep = rr.nextInt((int) rec.length());
                    TorchArchives.rewrite(file, rec.name(), data -> Arrays.copyOf(data, keep));
                });
            case 4:
                return new Mutation("part: another part's file", part, dir -> {
                    String other = PARTS[(Arrays.asList(PARTS).indexOf(part) + 1 + new Random(s).nextInt(2)) % 3];
                    write(dir.resolve(part), read(dir.resolve(other)));
                });
            default:
                return new Mutation("part: empty or missing", part, dir -> {
                    if (new Random(s).nextBoolean()) {
                        write(dir.resolve(part), new byte[0]);
                    } else {
                        delete(dir.resolve(part));
                    }
                });
        }
    }

    private static Mutation tokenizerMutation(Random r) {
        String file = TOKENIZER_FILES[r.nextInt(TOKENIZER_FILES.length)];
        long s = r.nextLong();
        int choice = r.nextInt(9);
        switch (choice) {
            case 0:
                return new Mutation("tokenizer: truncate", file, dir -> {
                    Path f = dir.resolve("tokenizer").resolve(file);
                    byte[] bytes = read(f);
                    write(f, Arrays.copyOf(bytes, new Random(s).nextInt(bytes.length)));
                });
            case 1:
                return new Mutation("tokenizer: bit flip", file, dir -> {
                    Path f = dir.resolve("tokenizer").resolve(file);
                    byte[] bytes = read(f);
                    Random rr = new Random(s);
                    int at = rr.nextInt(bytes.length);
                    bytes[at] ^= (byte) (1 << rr.nextInt(8));
                    write(f, bytes);
                });
            case 2:
                return new Mutation("tokenizer: delete", file, dir -> delete(dir.resolve("tokenizer").resolve(file)));
            case 3:
                return new Mutation("tokenizer: empty merges", "merges.txt", dir -> write(
                        dir.resolve("tokenizer/merges.txt"), "#version: 0.2\n".getBytes(StandardCharsets.UTF_8)));
            case 4:
                return new Mutation("tokenizer: reversed merges", "merges.txt", dir -> {
                    List<String> lines = lines(dir.resolve("tokenizer/merges.txt"));
                    List<String> body = new ArrayList<>(lines.subList(1, lines.size()));
                    Collections.reverse(body);
                    body.add(0, lines.get(0));
                    writeLines(dir.resolve("tokenizer/merges.txt"), body);
                });
            case 5:
                return new Mutation("tokenizer: duplicate vocab id", "vocab.json", dir -> editVocab(dir, v -> {
                    List<String> keys = new ArrayList<>(v.keySet());
                    Random rr = new Random(s);
                    v.add(keys.get(rr.nextInt(keys.size())), v.get(keys.get(rr.nextInt(keys.size()))));
                }));
            case 6:
                return new Mutation("tokenizer: non-numeric vocab id", "vocab.json", dir -> editVocab(dir, v -> {
                    List<String> keys = new ArrayList<>(v.keySet());
                    v.addProperty(keys.get(new Random(s).nextInt(keys.size())), "seven");
                }));
            case 7:
                return new Mutation("tokenizer: id beyond the embedding table", "vocab.json", dir -> editVocab(dir,
                        v -> v.addProperty("zq</w>", 49408 + new Random(s).nextInt(1000))));
            default:
                return new Mutation("tokenizer: another vocabulary", "vocab.json (1002 tokens)", dir -> {
                    editVocab(dir, v -> {
                        List<String> drop = new ArrayList<>();
                        v.entrySet().forEach(e -> {
                            if (e.getValue().getAsLong() >= 1000 && e.getValue().getAsLong() < 49406) {
                                drop.add(e.getKey());
                            }
                        });
                        drop.forEach(v::remove);
                    });
                    List<String> lines = lines(dir.resolve("tokenizer/merges.txt"));
                    writeLines(dir.resolve("tokenizer/merges.txt"), lines.subList(0, 1 + 1000 - 512));
                });
        }
    }

    private static Mutation manifestEdit(String kind, String description, Consumer<JsonObject> edit) {
        return new Mutation(kind, description, dir -> {
            Path f = dir.resolve("manifest.json");
            JsonObject m = JsonParser.parseString(new String(read(f), StandardCharsets.UTF_8)).getAsJsonObject();
            edit.accept(m);
            write(f, m.toString().getBytes(StandardCharsets.UTF_8));
        });
    }

    private static void editVocab(Path dir, Consumer<JsonObject> edit) {
        Path f = dir.resolve("tokenizer/vocab.json");
        JsonObject v = JsonParser.parseString(new String(read(f), StandardCharsets.UTF_8)).getAsJsonObject();
        edit.accept(v);
        write(f, v.toString().getBytes(StandardCharsets.UTF_8));
    }

    // ---- JSON paths ----

    private static void leafPaths(JsonObject o, String prefix, List<String> out) {
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue().isJsonObject()) {
                leafPaths(e.getValue().getAsJsonObject(), path, out);
            } else {
                out.add(path);
            }
        }
    }

    private static JsonElement get(JsonObject o, String path) {
        String[] keys = path.split("\\.");
        JsonElement e = o;
        for (String k : keys) {
            e = e.getAsJsonObject().get(k);
        }
        return e;
    }

    private static JsonObject parent(JsonObject o, String path) {
        String[] keys = path.split("\\.");
        JsonObject p = o;
        for (int i = 0; i < keys.length - 1; i++) {
            p = p.getAsJsonObject(keys[i]);
        }
        return p;
    }

    private static void set(JsonObject o, String path, JsonElement value) {
        parent(o, path).add(path.substring(path.lastIndexOf('.') + 1), value);
    }

    private static void remove(JsonObject o, String path) {
        parent(o, path).remove(path.substring(path.lastIndexOf('.') + 1));
    }

    // ---- files ----

    /** A copy of {@code from} whose files are hard links: cheap, and mutations replace files, never edit them. */
    private static void linkCopy(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.createLink(target, p);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Collections.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static byte[] read(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces {@code f} (never writes through a hard link into the pristine copy). */
    private static void write(Path f, byte[] bytes) {
        try {
            Files.deleteIfExists(f);
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> lines(Path f) {
        return new String(read(f), StandardCharsets.UTF_8).lines().toList();
    }

    private static void writeLines(Path f, List<String> lines) {
        write(f, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    // ---- report ----

    private static String report(int cases, long seed, double seconds, Map<Outcome, Integer> counts,
                                 Map<String, Map<Outcome, Integer>> byKind, List<String> failures) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(java.util.Locale.ROOT, "%d cases, seed %d, %.0f s%n%n", cases, seed, seconds));
        s.append("| mutation | cases | clean at load | clean at generate | same image | silent wrong image"
                + " | unexpected exception | hang |\n|---|---|---|---|---|---|---|---|\n");
        byKind.forEach((kind, c) -> s.append(row(kind, c)));
        s.append(row("**all**", counts));
        if (!failures.isEmpty()) {
            s.append("\nFailures:\n");
            failures.forEach(f -> s.append("- ").append(f).append('\n'));
        }
        return s.toString();
    }

    private static String row(String name, Map<Outcome, Integer> c) {
        int total = c.values().stream().mapToInt(Integer::intValue).sum();
        StringBuilder s = new StringBuilder("| ").append(name).append(" | ").append(total);
        for (Outcome o : Outcome.values()) {
            s.append(" | ").append(c.getOrDefault(o, 0));
        }
        return s.append(" |\n").toString();
    }
}
