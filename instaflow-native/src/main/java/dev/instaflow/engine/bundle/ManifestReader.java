package dev.instaflow.engine.bundle;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.InvalidModelException;
import dev.instaflow.Precision;
import dev.instaflow.Sampler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads and validates a {@code manifest.json}. The rules are those of {@code docs/bundle-format.md}: a newer
 * {@code format_version} is rejected, unknown fields are ignored (and logged at debug level) so that version-1
 * readers accept later additions, and every value is checked for type and range with an error naming the field.
 */
@EntryPoint("reading manifest.json: tooling's assembler")
public final class ManifestReader {
    private static final Logger LOG = LoggerFactory.getLogger(ManifestReader.class);

    /**
     * Ranges of the manifest's real-valued model constants. Values outside are no real model's, and inside LibTorch
     * they overflow float32 (a time scale of 1e308) or silently compute another image (a scaling factor of 1e30
     * decodes near-zero latents), so they fail at load.
     */
    static final double MIN_TIME_SCALE = 1e-3;
    static final double MAX_TIME_SCALE = 1e6;
    static final double MIN_SCALING_FACTOR = 1e-3;
    static final double MAX_SCALING_FACTOR = 1e3;
    static final double MAX_GUIDANCE = 1000;

    private ManifestReader() {
    }

    /** Reads {@code file}. @throws InvalidModelException naming the file and field of the first problem */
    public static BundleManifest read(Path file) {
        if (!BundleFiles.present(file)) {
            throw new InvalidModelException(file, null, "no bundle manifest here: a bundle directory must contain "
                    + BundleManifest.FILE_NAME + " (see docs/bundle-format.md; the `instaflow bundle` command"
                    + " writes one)");
        }
        Path folder = file.toAbsolutePath().getParent();
        return parse(file, BundleFiles.readText(folder, file, null, BundleFiles.MAX_MANIFEST_BYTES));
    }

    /** Parses manifest text; {@code file} is only used in messages. */
    public static BundleManifest parse(Path file, String json) {
        JsonFields top = new JsonFields(file, "", BundleFiles.parseObject(file, null, json));

        String format = top.string("format");
        if (!format.equals(BundleManifest.FORMAT)) {
            throw top.error("format", "expected \"" + BundleManifest.FORMAT + "\", got \"" + format + "\"");
        }
        int version = top.integer("format_version", 1, Integer.MAX_VALUE);
        if (version > BundleManifest.CURRENT_VERSION) {
            throw top.error("format_version", "the bundle was written in format version " + version
                    + ", but this SDK reads version " + BundleManifest.CURRENT_VERSION
                    + " and older; upgrade instaflow-java to load it");
        }

        String name = top.string("name");
        String family = top.string("family", "custom");
        String description = top.string("description", "");
        Precision dtype = parseEnum(top, "dtype", Precision::parse);
        String tracedOn = top.string("traced_on", "cpu").toLowerCase(Locale.ROOT);
        if (!tracedOn.equals("cpu") && !tracedOn.equals("cuda")) {
            throw top.error("traced_on", "expected \"cpu\" or \"cuda\", got \"" + tracedOn + "\"");
        }

        List<JsonFields> sections = new ArrayList<>();
        sections.add(top);

        JsonFields p = top.object("prediction");
        sections.add(p);
        Prediction prediction = Prediction.read(p);

        JsonFields l = top.object("latent");
        sections.add(l);
        BundleManifest.Latent latent = new BundleManifest.Latent(l.integer("channels", 1, 4096),
                l.integer("vae_scale_factor", 1, 64), l.number("scaling_factor", MIN_SCALING_FACTOR,
                MAX_SCALING_FACTOR, "real latent spaces use 0.13 (SDXL) to 1.5 (SD3); SD 1.5 and 2.x use 0.18215"));

        JsonFields i = top.object("image");
        sections.add(i);
        int sizeMultiple = i.integer("size_multiple", 1, 4096, latent.vaeScaleFactor());
        if (sizeMultiple % latent.vaeScaleFactor() != 0) {
            throw i.error("size_multiple", "expected a multiple of latent.vae_scale_factor ("
                    + latent.vaeScaleFactor() + "), got " + sizeMultiple);
        }
        int defaultWidth = i.integer("default_width", 1, 1 << 16);
        int defaultHeight = i.integer("default_height", 1, 1 << 16);
        for (String key : new String[] {"default_width", "default_height"}) {
            int v = key.equals("default_width") ? defaultWidth : defaultHeight;
            if (v % sizeMultiple != 0) {
                throw i.error(key, "expected a multiple of the size multiple " + sizeMultiple + ", got " + v);
            }
        }
        BundleManifest.Image image = new BundleManifest.Image(defaultWidth, defaultHeight, sizeMultiple);

        JsonFields t = top.object("text");
        sections.add(t);
        BundleManifest.Text text = new BundleManifest.Text(t.integer("max_length", 3, 4096),
                t.integer("hidden_size", 1, 1 << 16), t.integer("bos_id", 0L, Integer.MAX_VALUE),
                t.integer("eos_id", 0L, Integer.MAX_VALUE), t.integer("pad_id", 0L, Integer.MAX_VALUE));

        JsonFields s = top.object("sampling");
        sections.add(s);
        Sampler sampler;
        try {
            sampler = Sampler.parse(s.string("sampler", "euler"));
        } catch (IllegalArgumentException e) {
            throw s.error("sampler", e.getMessage());
        }
        int steps = s.integer("steps", 1, 100_000);
        double guidance = s.number("guidance", 0, MAX_GUIDANCE, "a guidance scale; models run at 0 to about 20");
        BundleManifest.Sampling sampling = new BundleManifest.Sampling(sampler, steps, guidance,
                s.string("negative_prompt", ""));

        BundleManifest.Limits limits;
        if (top.has("limits")) {
            JsonFields lim = top.object("limits");
            sections.add(lim);
            BundleManifest.Limits d = ManifestDefaults.LIMITS;
            limits = new BundleManifest.Limits(lim.integer("max_size", 1, 1 << 16, d.maxSize()),
                    lim.integer("max_batch", 1, 4096, d.maxBatch()),
                    lim.integer("max_steps", 1, 100_000, d.maxSteps()));
        } else {
            top.markRead("limits");
            limits = ManifestDefaults.LIMITS;
        }
        if (Math.max(defaultWidth, defaultHeight) > limits.maxSize()) {
            throw new InvalidModelException(file, "limits.max_size", "expected at least the default image size "
                    + Math.max(defaultWidth, defaultHeight) + ", got " + limits.maxSize());
        }
        if (steps > limits.maxSteps()) {
            throw s.error("steps", "expected at most limits.max_steps (" + limits.maxSteps() + "), got " + steps);
        }

        JsonFields parts = top.object("parts");
        sections.add(parts);
        BundleManifest.Parts partPaths = new BundleManifest.Parts(parts.string("text_encoder"),
                parts.string("denoiser"), parts.string("vae_decoder"), parts.string("tokenizer"),
                parts.string("refiner", null), parts.string("vae_encoder", null));

        checkDefaultsFit(file, prediction, sampling, partPaths);

        Map<String, String> provenance = new LinkedHashMap<>();
        if (top.has("provenance")) {
            JsonFields prov = top.object("provenance");
            prov.raw().entrySet().forEach(e -> provenance.put(e.getKey(),
                    e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : e.getValue().toString()));
        } else {
            top.markRead("provenance");
        }

        List<String> unknown = new ArrayList<>();
        sections.forEach(section -> unknown.addAll(section.unknownKeys()));
        if (!unknown.isEmpty() && LOG.isDebugEnabled()) {
            LOG.debug("{}: ignoring fields this SDK does not know: {}", file, unknown);
        }
        return new BundleManifest(version, name, family, description, dtype, tracedOn, prediction, latent, image,
                text, sampling, limits, partPaths, provenance);
    }

    /**
     * The defaults must make a valid generation on their own: {@code generate("a cat")} on a bundle must never fail
     * for a reason only its manifest could fix.
     */
    private static void checkDefaultsFit(Path file, Prediction prediction, BundleManifest.Sampling sampling,
                                         BundleManifest.Parts parts) {
        Sampler sampler = sampling.sampler();
        prediction.checkDefaults(file, sampling);
        if (sampler.fixedSteps().isPresent() && sampler.fixedSteps().getAsInt() != sampling.steps()) {
            throw new InvalidModelException(file, "sampling.steps", "expected " + sampler.fixedSteps().getAsInt()
                    + ", the step count of the default sampler " + sampler + ", got " + sampling.steps());
        }
        if (sampler instanceof Sampler.FlowTurbo turbo && turbo.refinerSteps() > 0 && parts.refiner() == null) {
            throw new InvalidModelException(file, "sampling.sampler", "the default sampler " + sampler + " has "
                    + turbo.refinerSteps() + " refiner step(s) but the bundle has no parts.refiner");
        }
    }

    private interface Parser<T> {
        T parse(String text);
    }

    private static <T> T parseEnum(JsonFields fields, String key, Parser<T> parser) {
        String value = fields.string(key);
        try {
            return parser.parse(value);
        } catch (IllegalArgumentException e) {
            throw fields.error(key, e.getMessage());
        }
    }
}
