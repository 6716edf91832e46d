package dev.instaflow.server;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import dev.instaflow.GenerationRequest;
import dev.instaflow.ModelInfo;

import java.io.StringReader;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an OpenAI-style {@code POST /v1/images/generations} body into a {@link GenerationRequest}, checking each
 * field so a bad one is answered with a 400 that names it.
 */
final class ImagesRequestParser {
    /** A field the client sent wrong; {@link #param()} names it (null for the body as a whole). */
    static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;
        private final String param;

        BadRequest(String param, String message) {
            super(message);
            this.param = param;
        }

        String param() {
            return param;
        }
    }

    record Parsed(GenerationRequest request, int n) {
    }

    private static final Set<String> FIELDS = Set.of("prompt", "n", "size", "response_format", "seed", "steps",
            "guidance", "negative_prompt");
    /** Sent by OpenAI clients; accepted and ignored. */
    private static final Set<String> IGNORED = Set.of("model", "user", "quality", "style");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,5})x([0-9]{1,5})");

    private final ModelInfo info;
    private final Server.Options options;

    ImagesRequestParser(ModelInfo info, Server.Options options) {
        this.info = info;
        this.options = options;
    }

    Parsed parse(String body) throws BadRequest {
        if (body == null || body.isBlank()) {
            throw new BadRequest(null, "malformed JSON body: the body is empty; send a JSON object such as"
                    + " {\"prompt\": \"a cat\"}");
        }
        JsonObject json;
        try {
            JsonReader reader = new JsonReader(new StringReader(body));
            reader.setStrictness(Strictness.STRICT);
            JsonElement root = JsonParser.parseReader(reader);
            if (!root.isJsonObject()) {
                throw new BadRequest(null, "the body must be a JSON object such as {\"prompt\": \"a cat\"}");
            }
            json = root.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new BadRequest(null, "malformed JSON body: " + rootMessage(e)
                    + "; send a JSON object such as {\"prompt\": \"a cat\"}");
        }
        for (Map.Entry<String, JsonElement> e : json.entrySet()) {
            if (!FIELDS.contains(e.getKey()) && !IGNORED.contains(e.getKey())) {
                throw new BadRequest(e.getKey(), "unknown field '" + e.getKey() + "'; the fields are " + FIELDS);
            }
        }
        GenerationRequest.Builder b = GenerationRequest.builder();
        String prompt = string(json, "prompt", true);
        b.prompt(prompt);
        int n = integer(json, "n", 1, 1, options.maxImagesPerRequest());
        b.imagesPerPrompt(n);
        String format = string(json, "response_format", false);
        if (format != null && !format.equals("b64_json")) {
            throw new BadRequest("response_format", "response_format '" + format
                    + "' is not supported; only \"b64_json\" (images inline as base64 PNG)");
        }
        int width = info.defaults().width();
        int height = info.defaults().height();
        String size = string(json, "size", false);
        if (size != null) {
            Matcher m = SIZE.matcher(size);
            int multiple = info.limits().sizeMultiple();
            int max = info.limits().maxSize();
            String expected = "; expected \"WxH\" with W and H multiples of " + multiple + " from " + multiple
                    + " to " + max + ", such as \"" + width + "x" + height + "\"";
            if (!m.matches()) {
                throw new BadRequest("size", "size '" + size + "' is not WxH" + expected);
            }
            width = Integer.parseInt(m.group(1));
            height = Integer.parseInt(m.group(2));
            if (width < multiple || height < multiple || width > max || height > max || width % multiple != 0
                    || height % multiple != 0) {
                throw new BadRequest("size", "size " + size + " is outside what the model accepts" + expected);
            }
            b.size(width, height);
        }
        long pixels = (long) n * width * height;
        if (pixels > options.maxPixelsPerRequest()) {
            throw new BadRequest("n", "n × size = " + n + " × " + width + "x" + height + " = " + pixels
                    + " pixels exceeds this server's limit of " + options.maxPixelsPerRequest()
                    + " pixels per request; ask for fewer or smaller images");
        }
        if (json.has("seed") && !json.get("seed").isJsonNull()) {
            b.seed(longValue(json, "seed"));
        }
        if (json.has("steps") && !json.get("steps").isJsonNull()) {
            b.steps(integer(json, "steps", 1, 1, info.limits().maxSteps()));
        }
        if (json.has("guidance") && !json.get("guidance").isJsonNull()) {
            double g = number(json, "guidance");
            if (!(g >= 0 && g <= 100)) {
                throw new BadRequest("guidance", "guidance must be a number from 0 to 100 (above 1 turns"
                        + " classifier-free guidance on), got " + json.get("guidance"));
            }
            b.guidance(g);
        }
        String negative = string(json, "negative_prompt", false);
        if (negative != null) {
            b.negativePrompt(negative);
        }
        try {
            return new Parsed(b.build(), n);
        } catch (IllegalArgumentException e) {
            throw new BadRequest(null, e.getMessage());
        }
    }

    private String string(JsonObject json, String field, boolean required) throws BadRequest {
        JsonElement e = json.get(field);
        if (e == null || e.isJsonNull()) {
            if (required) {
                throw new BadRequest(field, "'" + field + "' is required (a string)");
            }
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new BadRequest(field, "'" + field + "' must be a string, got " + abbreviate(e));
        }
        String s = e.getAsString();
        if (s.length() > options.maxPromptChars()) {
            throw new BadRequest(field, "'" + field + "' has " + s.length() + " characters; this server takes at most "
                    + options.maxPromptChars());
        }
        return s;
    }

    private static BigDecimal decimal(JsonObject json, String field, String what) throws BadRequest {
        JsonElement e = json.get(field);
        if (!e.isJsonPrimitive() || !((JsonPrimitive) e).isNumber()) {
            throw new BadRequest(field, "'" + field + "' must be " + what + ", got " + abbreviate(e));
        }
        try {
            return e.getAsBigDecimal();
        } catch (NumberFormatException ex) {
            throw new BadRequest(field, "'" + field + "' must be " + what + ", got " + abbreviate(e));
        }
    }

    private static int integer(JsonObject json, String field, int fallback, int min, int max) throws BadRequest {
        if (!json.has(field) || json.get(field).isJsonNull()) {
            return fallback;
        }
        String what = "an integer from " + min + " to " + max;
        BigDecimal d = decimal(json, field, what);
        try {
            int v = d.intValueExact();
            if (v < min || v > max) {
                throw new BadRequest(field, "'" + field + "' must be " + what + ", got " + v);
            }
            return v;
        } catch (ArithmeticException e) {
            throw new BadRequest(field, "'" + field + "' must be " + what + ", got " + d);
        }
    }

    private static final BigDecimal MAX_SEED = new BigDecimal("18446744073709551615");

    /** A seed: an unsigned 64-bit integer, as the SDK prints seeds. */
    private static long longValue(JsonObject json, String field) throws BadRequest {
        String what = "an integer from 0 to " + MAX_SEED;
        BigDecimal d = decimal(json, field, what);
        try {
            java.math.BigInteger v = d.toBigIntegerExact();
            if (v.signum() < 0 || new BigDecimal(v).compareTo(MAX_SEED) > 0) {
                throw new BadRequest(field, "'" + field + "' must be " + what + ", got " + v);
            }
            return v.longValue();
        } catch (ArithmeticException e) {
            throw new BadRequest(field, "'" + field + "' must be " + what + ", got " + d);
        }
    }

    private static double number(JsonObject json, String field) throws BadRequest {
        return decimal(json, field, "a number").doubleValue();
    }

    private static String abbreviate(JsonElement e) {
        String s = e.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m.replaceAll("\\s*See https://\\S+", "");
    }
}
