package dev.instaflow.engine.snapshot;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.instaflow.InvalidModelException;
import dev.instaflow.LoadOptions;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.ManifestDefaults;
import dev.instaflow.engine.bundle.JsonFields;
import dev.instaflow.engine.bundle.ManifestReader;
import dev.instaflow.engine.text.TokenizerFraming;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A diffusers snapshot as published ({@code model_index.json}, then {@code text_encoder/}, {@code tokenizer/},
 * {@code unet/}, {@code vae/}, each with its {@code config.json} and weights), opened as a model: the components are
 * checked against the classes this SDK builds, and the snapshot is described by the same {@link BundleManifest} a
 * bundle has, so that everything after loading (request defaults and limits, the pipeline, the load-time probes) is
 * one code path.
 *
 * <p>The manifest's values come from three places, in this order of precedence:
 * <ol>
 *   <li>an optional {@code instaflow.json} beside {@code model_index.json} (or {@link LoadOptions#settings()}),
 *       whose keys are the manifest's own sections and fields ({@code prediction}, {@code sampling}, {@code image},
 *       {@code limits}, {@code name}, {@code family}, {@code description}, {@code parts.refiner}), every one
 *       optional;</li>
 *   <li>the component configs, for everything that describes the networks (latent channels, VAE scale factor and
 *       scaling factor, text width and length, the default image size): these cannot be overridden;</li>
 *   <li>documented rules for the rest: {@code _class_name} {@code RectifiedFlowPipeline} means a velocity model with
 *       time scale 1000 (InstaFlow, 2-Rectified Flow); sampling defaults to one Euler step without guidance; the
 *       limits are the bundle format's defaults. A snapshot whose prediction nothing decides fails to load with a
 *       message that says what to write.</li>
 * </ol>
 * See {@code docs/models.md}.
 */
@EntryPoint("a diffusers snapshot opened and checked: the CLI's inspect")
public final class Snapshot {
    private static final Logger LOG = LoggerFactory.getLogger(Snapshot.class);

    /** The file that marks a diffusers snapshot. */
    public static final String INDEX_FILE = "model_index.json";
    /** The optional settings file beside it. */
    public static final String SETTINGS_FILE = "instaflow.json";
    /** The component folders this SDK reads, as diffusers names them. */
    public static final String TEXT_ENCODER = "text_encoder";
    public static final String TOKENIZER = "tokenizer";
    public static final String UNET = "unet";
    public static final String VAE = "vae";
    static final String CONFIG_FILE = "config.json";

    /** The pipeline class whose name alone says "velocity, time scale 1000" (InstaFlow's own pipeline). */
    static final String RECTIFIED_FLOW_PIPELINE = "RectifiedFlowPipeline";
    static final double RECTIFIED_FLOW_TIME_SCALE = 1000.0;

    /** The component classes built in, per component. */
    private static final Map<String, Set<String>> BUILT_IN = Map.of(
            TEXT_ENCODER, Set.of("CLIPTextModel", "CLIPTextModelWithProjection"),
            TOKENIZER, Set.of("CLIPTokenizer", "CLIPTokenizerFast"),
            UNET, Set.of("UNet2DConditionModel"),
            VAE, Set.of("AutoencoderKL"));
    /** Components a text-to-image pipeline may list that the SDK does not need (it never runs a safety checker). */
    private static final Set<String> NOT_USED = Set.of("scheduler", "safety_checker", "feature_extractor",
            "image_encoder");
    /** The top-level keys instaflow.json may have. */
    private static final List<String> SETTINGS_KEYS = List.of("name", "family", "description", "prediction",
            "sampling", "image", "limits", "parts", "provenance");

    private final Path directory;
    private final BundleManifest manifest;
    private final SnapshotConfigs configs;
    private final Path settingsFile;
    private final Path refiner;

    private Snapshot(Path directory, BundleManifest manifest, SnapshotConfigs configs, Path settingsFile,
                     Path refiner) {
        this.directory = directory;
        this.manifest = manifest;
        this.configs = configs;
        this.settingsFile = settingsFile;
        this.refiner = refiner;
    }

    /** Whether {@code directory} holds a diffusers snapshot (a {@code model_index.json}) and no bundle manifest. */
    public static boolean isSnapshot(Path directory) {
        return Files.isRegularFile(directory.resolve(INDEX_FILE))
                && !Files.exists(directory.resolve(BundleManifest.FILE_NAME));
    }

    /**
     * Opens the snapshot in {@code directory}: checks its index and components and derives its manifest.
     *
     * @throws InvalidModelException naming the file and field at fault
     */
    public static Snapshot open(Path directory, LoadOptions options) {
        Path dir;
        try {
            dir = directory.toRealPath();
        } catch (IOException e) {
            throw new InvalidModelException(directory, null, "model directory does not exist or cannot be read", e);
        }
        Path indexFile = dir.resolve(INDEX_FILE);
        JsonFields index = JsonFields.read(indexFile);
        String pipelineClass = index.string("_class_name", "");
        checkComponents(dir, index);

        Path settingsFile = options.settings().orElse(dir.resolve(SETTINGS_FILE));
        boolean hasSettings = options.settings().isPresent() || Files.exists(settingsFile);
        JsonObject settings = hasSettings ? JsonFields.read(settingsFile).raw() : new JsonObject();
        if (hasSettings) {
            checkSettingsKeys(settingsFile, settings);
        }
        Path messagesFile = hasSettings ? settingsFile : indexFile;

        JsonObject m = new JsonObject();
        m.addProperty("format", BundleManifest.FORMAT);
        m.addProperty("format_version", BundleManifest.CURRENT_VERSION);
        m.addProperty("name", dir.getFileName().toString());
        m.addProperty("family", pipelineClass.equals(RECTIFIED_FLOW_PIPELINE) ? "rectified-flow" : "custom");
        m.addProperty("description", "diffusers snapshot"
                + (pipelineClass.isEmpty() ? "" : " (" + pipelineClass + ")"));
        m.addProperty("dtype", "float32");
        m.addProperty("traced_on", "cpu");
        m.add("prediction", prediction(indexFile, pipelineClass, settings));

        SnapshotConfigs configs = SnapshotConfigs.read(dir);
        Geometry g = Geometry.of(configs);
        BundleManifest.Text framing = TokenizerFraming.read(dir.resolve(TOKENIZER));
        if (framing.maxLength() > g.textPositions()) {
            throw new InvalidModelException(dir.resolve(TOKENIZER).resolve("tokenizer_config.json"),
                    "model_max_length", "is " + framing.maxLength() + ", more than the text encoder's "
                    + g.textPositions() + " positions (text_encoder/config.json max_position_embeddings)");
        }
        JsonObject latent = new JsonObject();
        latent.addProperty("channels", g.latentChannels());
        latent.addProperty("vae_scale_factor", g.vaeScaleFactor());
        latent.addProperty("scaling_factor", g.scalingFactor());
        m.add("latent", latent);
        JsonObject image = new JsonObject();
        image.addProperty("default_width", g.defaultWidth());
        image.addProperty("default_height", g.defaultHeight());
        image.addProperty("size_multiple", g.sizeMultiple());
        m.add("image", merged(image, settings, "image"));
        JsonObject text = new JsonObject();
        text.addProperty("max_length", framing.maxLength());
        text.addProperty("hidden_size", g.textHiddenSize());
        text.addProperty("bos_id", framing.bosId());
        text.addProperty("eos_id", framing.eosId());
        text.addProperty("pad_id", framing.padId());
        m.add("text", text);
        JsonObject sampling = new JsonObject();
        sampling.addProperty("sampler", "euler");
        sampling.addProperty("steps", 1);
        sampling.addProperty("guidance", 0.0);
        m.add("sampling", merged(sampling, settings, "sampling"));
        if (settings.has("limits")) {
            m.add("limits", settings.get("limits"));
        }
        JsonObject parts = new JsonObject();
        parts.addProperty("text_encoder", TEXT_ENCODER);
        parts.addProperty("denoiser", UNET);
        parts.addProperty("vae_decoder", VAE);
        parts.addProperty("tokenizer", TOKENIZER);
        String refinerPath = refinerPath(settingsFile, settings);
        if (refinerPath != null) {
            parts.addProperty("refiner", refinerPath);
        }
        m.add("parts", parts);
        JsonObject provenance = new JsonObject();
        provenance.addProperty("source", "diffusers snapshot");
        if (!pipelineClass.isEmpty()) {
            provenance.addProperty("pipeline", pipelineClass);
        }
        if (index.has("_diffusers_version")) {
            provenance.addProperty("diffusers", index.string("_diffusers_version"));
        }
        if (settings.has("provenance") && settings.get("provenance").isJsonObject()) {
            settings.getAsJsonObject("provenance").entrySet().forEach(e -> provenance.add(e.getKey(), e.getValue()));
        }
        m.add("provenance", provenance);
        for (String key : new String[] {"name", "family", "description"}) {
            if (settings.has(key)) {
                m.add(key, settings.get(key));
            }
        }

        BundleManifest manifest = ManifestReader.parse(messagesFile, m.toString());
        Path refiner = refinerPath == null ? null
                : Bundle.resolveInside(dir, settingsFile, "parts.refiner", refinerPath, false);
        return new Snapshot(dir, manifest, configs, hasSettings ? settingsFile : null, refiner);
    }

    /** Every component the index lists must be one this SDK builds, or one it does not need. */
    private static void checkComponents(Path dir, JsonFields index) {
        for (Map.Entry<String, JsonElement> e : index.raw().entrySet()) {
            String name = e.getKey();
            if (name.startsWith("_") || !e.getValue().isJsonArray()) {
                continue;
            }
            JsonArray spec = e.getValue().getAsJsonArray();
            String library = spec.size() > 0 && spec.get(0).isJsonPrimitive() ? spec.get(0).getAsString() : null;
            String cls = spec.size() > 1 && spec.get(1).isJsonPrimitive() ? spec.get(1).getAsString() : null;
            if (BUILT_IN.containsKey(name)) {
                if (cls == null || !BUILT_IN.get(name).contains(cls)) {
                    throw index.error(name, "names the class " + (cls == null ? "null" : library + "." + cls)
                            + ", which this SDK does not build; supported: " + String.join(", ",
                            BUILT_IN.get(name).stream().sorted().toList()));
                }
            } else if (cls != null && !NOT_USED.contains(name)) {
                throw index.error(name, "is a component (" + library + "." + cls + ") that this SDK does not build:"
                        + " it runs text_encoder + tokenizer + unet + vae pipelines of Stable Diffusion 1.x/2.x shape"
                        + " (a second text encoder or an image encoder means another architecture; export such a"
                        + " model as a TorchScript bundle with the exporter)");
            } else if (cls != null) {
                LOG.debug("{}: component {} ({}) is not used", dir, name, cls);
            }
        }
        for (String required : BUILT_IN.keySet()) {
            if (!index.has(required)) {
                throw index.error(required, "is missing: a text-to-image snapshot needs " + String.join(", ",
                        BUILT_IN.keySet().stream().sorted().toList()));
            }
            Path folder = Bundle.resolveInside(dir, dir.resolve(INDEX_FILE), required, required, true);
            if (!required.equals(TOKENIZER) && !Files.isRegularFile(folder.resolve(CONFIG_FILE))) {
                throw new InvalidModelException(folder.resolve(CONFIG_FILE), null, "is missing: every component"
                        + " folder of a snapshot has its config.json");
            }
        }
    }

    private static void checkSettingsKeys(Path file, JsonObject settings) {
        for (String key : settings.keySet()) {
            if (!SETTINGS_KEYS.contains(key)) {
                String why = switch (key) {
                    case "latent", "text" -> "comes from the component configs and the tokenizer folder and cannot"
                            + " be set here";
                    case "dtype", "format", "format_version", "traced_on" -> "is not a snapshot setting (the"
                            + " precision is LoadOptions.precision)";
                    default -> "is not a setting";
                };
                throw new InvalidModelException(file, key, why + "; instaflow.json may have: "
                        + String.join(", ", SETTINGS_KEYS));
            }
        }
        if (settings.has("parts")) {
            JsonElement parts = settings.get("parts");
            if (!parts.isJsonObject()) {
                throw new InvalidModelException(file, "parts", "expected an object such as {\"refiner\":"
                        + " \"" + ManifestDefaults.REFINER_FILE + "\"}");
            }
            for (String key : parts.getAsJsonObject().keySet()) {
                if (!key.equals("refiner")) {
                    throw new InvalidModelException(file, "parts." + key, "a snapshot's networks are its"
                            + " component folders; only parts.refiner (a FlowTurbo refiner, TorchScript) can be added");
                }
            }
        }
    }

    private static JsonElement prediction(Path indexFile, String pipelineClass, JsonObject settings) {
        if (settings.has("prediction")) {
            return settings.get("prediction"); // the manifest reader names the field when it is not an object
        }
        if (pipelineClass.equals(RECTIFIED_FLOW_PIPELINE)) {
            JsonObject velocity = new JsonObject();
            velocity.addProperty("type", "velocity");
            velocity.addProperty("time_scale", RECTIFIED_FLOW_TIME_SCALE);
            return velocity;
        }
        throw new InvalidModelException(indexFile, "_class_name", "\"" + pipelineClass + "\" does not say whether"
                + " the UNet predicts a rectified-flow velocity or noise; write " + SETTINGS_FILE + " beside "
                + INDEX_FILE + ", e.g. {\"prediction\": {\"type\": \"epsilon\", \"timestep\": 999, \"alpha_bar\":"
                + " 0.0047}} for a SwiftBrush student or {\"prediction\": {\"type\": \"velocity\", \"time_scale\":"
                + " 1000}} for InstaFlow or 2-Rectified Flow (docs/models.md)");
    }

    /** {@code defaults} with the fields of {@code settings.section} laid over them. */
    private static JsonElement merged(JsonObject defaults, JsonObject settings, String section) {
        if (!settings.has(section)) {
            return defaults;
        }
        JsonElement given = settings.get(section);
        if (!given.isJsonObject()) {
            return given; // the manifest reader names the field and says an object was expected
        }
        JsonObject out = defaults.deepCopy();
        given.getAsJsonObject().entrySet().forEach(e -> out.add(e.getKey(), e.getValue()));
        return out;
    }

    private static String refinerPath(Path file, JsonObject settings) {
        if (!settings.has("parts")) {
            return null;
        }
        JsonElement r = settings.getAsJsonObject("parts").get("refiner");
        if (r == null || r.isJsonNull()) {
            return null;
        }
        if (!r.isJsonPrimitive() || !r.getAsJsonPrimitive().isString()) {
            throw new InvalidModelException(file, "parts.refiner", "expected a path (a string) relative to the"
                    + " snapshot folder");
        }
        return r.getAsString();
    }

    public Path directory() {
        return directory;
    }

    public BundleManifest manifest() {
        return manifest;
    }

    /** The component configs, read and checked. */
    public SnapshotConfigs configs() {
        return configs;
    }

    /** The settings file that was read, if any. */
    public Optional<Path> settingsFile() {
        return Optional.ofNullable(settingsFile);
    }

    public Path component(String name) {
        return directory.resolve(name);
    }

    public Path tokenizer() {
        return component(TOKENIZER);
    }

    /** The FlowTurbo refiner (TorchScript) that {@code parts.refiner} names, if any. */
    public Optional<Path> refiner() {
        return Optional.ofNullable(refiner);
    }
}
