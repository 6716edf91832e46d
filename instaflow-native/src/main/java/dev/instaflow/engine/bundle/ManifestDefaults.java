package dev.instaflow.engine.bundle;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The bundle format's name, the default limits and the conventional part file names, read from the resource
 * {@value #RESOURCE} beside this class. That JSON file is their one home: the SDK reads it here, and the Python
 * exporter ({@code exporter/instaflow_export/bundle_files.py}) reads the same file from the checkout, so neither side
 * keeps a copy (docs/bundle-format.md, "Defaults"). The manifest's field layout stays in {@link ManifestWriter} and,
 * for the exporter, in {@code bundle_files.manifest}, which {@code exporter/tests} check against the SDK's reader.
 */
@EntryPoint("the bundle defaults shared with the Python exporter: training's export, tooling")
public final class ManifestDefaults {
    /** The resource, relative to this class's package. */
    public static final String RESOURCE = "manifest-defaults.json";

    private static final JsonFields ROOT = load();
    private static final JsonFields LIMITS_SECTION = ROOT.object("limits");
    private static final JsonFields PARTS_SECTION = ROOT.object("parts");

    /** The value of a manifest's {@code format} field. */
    public static final String FORMAT = ROOT.string("format");

    /** The limits of a manifest without a {@code limits} section (and of each absent field in one). */
    public static final BundleManifest.Limits LIMITS = new BundleManifest.Limits(
            LIMITS_SECTION.integer("max_size", 1, 1 << 16), LIMITS_SECTION.integer("max_batch", 1, 4096),
            LIMITS_SECTION.integer("max_steps", 1, 100_000));

    /** Conventional file of {@code parts.text_encoder}. */
    public static final String TEXT_ENCODER_FILE = PARTS_SECTION.string("text_encoder");
    /** Conventional file of {@code parts.denoiser}. */
    public static final String DENOISER_FILE = PARTS_SECTION.string("denoiser");
    /** Conventional file of {@code parts.vae_decoder}. */
    public static final String VAE_DECODER_FILE = PARTS_SECTION.string("vae_decoder");
    /** Conventional folder of {@code parts.tokenizer}. */
    public static final String TOKENIZER_FOLDER = PARTS_SECTION.string("tokenizer");
    /** Conventional file of the optional {@code parts.refiner}. */
    public static final String REFINER_FILE = PARTS_SECTION.string("refiner");
    /** Conventional file of the optional {@code parts.vae_encoder}. */
    public static final String VAE_ENCODER_FILE = PARTS_SECTION.string("vae_encoder");

    private ManifestDefaults() {
    }

    /** The conventional part paths, with the optional refiner and VAE encoder only where {@code true}. */
    public static BundleManifest.Parts parts(boolean refiner, boolean vaeEncoder) {
        return new BundleManifest.Parts(TEXT_ENCODER_FILE, DENOISER_FILE, VAE_DECODER_FILE, TOKENIZER_FOLDER,
                refiner ? REFINER_FILE : null, vaeEncoder ? VAE_ENCODER_FILE : null);
    }

    private static JsonFields load() {
        try (InputStream in = ManifestDefaults.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the SDK's resource " + RESOURCE + " is missing from the classpath"
                        + " (beside " + ManifestDefaults.class.getName() + "); the instaflow-native jar is broken");
            }
            JsonObject root = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                    .getAsJsonObject();
            return new JsonFields(Path.of(RESOURCE), "", root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the SDK's resource " + RESOURCE, e);
        }
    }
}
