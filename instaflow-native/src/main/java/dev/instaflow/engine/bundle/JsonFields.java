package dev.instaflow.engine.bundle;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.instaflow.InvalidModelException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Typed access to one JSON object of a bundle file (the manifest, the self-test), with errors that name the file and
 * the dotted field and say what was expected. Also remembers which keys were read, so unknown keys can be reported.
 */
@EntryPoint("typed JSON fields with errors naming file and field: tooling's self-test spec")
public final class JsonFields {
    private final Path file;
    private final String prefix;
    private final JsonObject object;
    private final Set<String> read = new java.util.HashSet<>();

    /** Reads {@code file} as one JSON object ({@link BundleFiles}: a regular file inside its folder, at most 1 MiB). */
    public static JsonFields read(Path file) {
        return new JsonFields(file, "", BundleFiles.readJsonObject(file.toAbsolutePath().getParent(), file, null,
                BundleFiles.MAX_SMALL_JSON_BYTES));
    }

    /** Integers of an array field with {@code length} elements, each in {@code min..max}. */
    public int[] integers(String key, int length, int min, int max) {
        JsonElement e = require(key, "an array of " + length + " integers");
        if (!e.isJsonArray() || e.getAsJsonArray().size() != length) {
            throw error(key, "expected an array of " + length + " integers, got " + describe(e));
        }
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            JsonElement item = e.getAsJsonArray().get(i);
            JsonFields one = new JsonFields(file, path(key), new JsonObject());
            one.object.add(Integer.toString(i), item);
            out[i] = one.integer(Integer.toString(i), min, max);
        }
        return out;
    }

    public JsonFields(Path file, String prefix, JsonObject object) {
        this.file = file;
        this.prefix = prefix;
        this.object = object;
    }

    public String path(String key) {
        return prefix.isEmpty() ? key : prefix + "." + key;
    }

    public InvalidModelException error(String key, String problem) {
        return new InvalidModelException(file, path(key), problem);
    }

    public boolean has(String key) {
        return object.has(key) && !object.get(key).isJsonNull();
    }

    private JsonElement require(String key, String expected) {
        read.add(key);
        if (!has(key)) {
            throw error(key, "is missing; expected " + expected);
        }
        return object.get(key);
    }

    public JsonFields object(String key) {
        JsonElement e = require(key, "an object");
        if (!e.isJsonObject()) {
            throw error(key, "expected an object, got " + describe(e));
        }
        return new JsonFields(file, path(key), e.getAsJsonObject());
    }

    public String string(String key) {
        JsonElement e = require(key, "a string");
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw error(key, "expected a string, got " + describe(e));
        }
        return e.getAsString();
    }

    public String string(String key, String fallback) {
        read.add(key);
        return has(key) ? string(key) : fallback;
    }

    public double number(String key) {
        JsonElement e = require(key, "a number");
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw error(key, "expected a number, got " + describe(e));
        }
        double v = e.getAsDouble();
        if (!Double.isFinite(v)) {
            throw error(key, "expected a finite number, got " + e);
        }
        return v;
    }

    /**
     * A number in {@code min..max}; {@code why} says where the range comes from (a value outside it cannot be a real
     * model's and would compute garbage or overflow float32).
     */
    public double number(String key, double min, double max, String why) {
        double v = number(key);
        if (v < min || v > max) {
            throw error(key, "expected a number " + (v <= 0 && min > 0 ? "> 0, " : "") + "in " + min + ".." + max
                    + " (" + why + "), got " + v);
        }
        return v;
    }

    public double positiveNumber(String key) {
        double v = number(key);
        if (v <= 0) {
            throw error(key, "expected a number > 0, got " + v);
        }
        return v;
    }

    public long integer(String key, long min, long max) {
        JsonElement e = require(key, "an integer");
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw error(key, "expected an integer, got " + describe(e));
        }
        long v;
        try {
            v = e.getAsBigDecimal().longValueExact();
        } catch (ArithmeticException | NumberFormatException notAnInteger) {
            // Fractions, values beyond 64 bits, and numbers Gson refuses to parse (1e100000: too large an exponent)
            String text = e.toString();
            throw error(key, "expected an integer in " + min + ".." + max + ", got "
                    + (text.length() <= 40 ? text : "a number of " + text.length() + " characters"));
        }
        if (v < min || v > max) {
            throw error(key, "expected an integer in " + min + ".." + max + ", got " + v);
        }
        return v;
    }

    public int integer(String key, int min, int max) {
        return (int) integer(key, (long) min, (long) max);
    }

    public int integer(String key, int min, int max, int fallback) {
        read.add(key);
        return has(key) ? integer(key, min, max) : fallback;
    }

    public double number(String key, double fallback) {
        read.add(key);
        return has(key) ? number(key) : fallback;
    }

    public boolean bool(String key, boolean fallback) {
        read.add(key);
        if (!has(key)) {
            return fallback;
        }
        JsonElement e = object.get(key);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw error(key, "expected true or false, got " + describe(e));
        }
        return e.getAsBoolean();
    }

    /** An array of strings (at least one). */
    public List<String> strings(String key) {
        JsonElement e = require(key, "an array of strings");
        if (!e.isJsonArray() || e.getAsJsonArray().isEmpty()) {
            throw error(key, "expected a non-empty array of strings, got " + describe(e));
        }
        List<String> out = new ArrayList<>();
        for (JsonElement item : e.getAsJsonArray()) {
            if (!item.isJsonPrimitive() || !item.getAsJsonPrimitive().isString()) {
                throw error(key, "expected an array of strings, found " + describe(item) + " in it");
            }
            out.add(item.getAsString());
        }
        return out;
    }

    /** An array of integers, each in {@code min..max} (any length ≥ 1). */
    public int[] integers(String key, int min, int max) {
        JsonElement e = require(key, "an array of integers");
        if (!e.isJsonArray() || e.getAsJsonArray().isEmpty()) {
            throw error(key, "expected a non-empty array of integers, got " + describe(e));
        }
        return integers(key, e.getAsJsonArray().size(), min, max);
    }

    /**
     * An integer given either once for all {@code length} entries or as an array of exactly {@code length} (as
     * diffusers' {@code attention_head_dim}, {@code layers_per_block}, {@code transformer_layers_per_block}).
     */
    public int[] integerPerEntry(String key, int length, int min, int max) {
        JsonElement e = require(key, "an integer or an array of " + length + " integers");
        if (e.isJsonArray()) {
            return integers(key, length, min, max);
        }
        int one = integer(key, min, max);
        int[] out = new int[length];
        java.util.Arrays.fill(out, one);
        return out;
    }

    /**
     * Fails unless the field is absent, null, or one of {@code supported} (compared as JSON text, e.g. {@code "\"default\""},
     * {@code "false"}, {@code "0"}): for configuration options the built-in networks do not implement.
     */
    public void requireOneOf(String key, String what, String... supported) {
        read.add(key);
        if (!has(key)) {
            return;
        }
        String actual = object.get(key).toString();
        for (String s : supported) {
            if (s.equals(actual) || (object.get(key).isJsonPrimitive() && object.get(key).getAsJsonPrimitive().isNumber()
                    && s.matches("-?[0-9.eE+-]+") && object.get(key).getAsDouble() == Double.parseDouble(s))) {
                return;
            }
        }
        throw error(key, "is " + actual + ", which " + what + " does not support; supported: null"
                + (supported.length == 0 ? "" : ", " + String.join(", ", supported)));
    }

    /** The keys present in the object that no accessor asked for. */
    public List<String> unknownKeys() {
        List<String> unknown = new ArrayList<>();
        for (String k : object.keySet()) {
            if (!read.contains(k)) {
                unknown.add(path(k));
            }
        }
        return unknown;
    }

    public JsonObject raw() {
        return object;
    }

    public void markRead(String key) {
        read.add(key);
    }

    private static String describe(JsonElement e) {
        if (e.isJsonObject()) {
            return "an object";
        }
        if (e.isJsonArray()) {
            return "an array";
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        if (p.isString()) {
            String text = p.getAsString();
            return text.length() <= 40 ? "the string \"" + text + "\"" : "a string of " + text.length() + " characters";
        }
        if (p.isBoolean()) {
            return "the boolean " + p.getAsBoolean();
        }
        return "the number " + p;
    }
}
