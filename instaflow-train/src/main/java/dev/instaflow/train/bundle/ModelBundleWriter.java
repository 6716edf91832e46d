package dev.instaflow.train.bundle;

import dev.instaflow.Precision;
import dev.instaflow.Sampler;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.ManifestDefaults;
import dev.instaflow.engine.bundle.Prediction;
import dev.instaflow.engine.bundle.ManifestWriter;
import dev.instaflow.engine.bundle.StagedDirectory;
import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import dev.instaflow.train.model.ModelConfig;
import dev.instaflow.train.model.PatchDecoder;
import dev.instaflow.train.model.PatchEncoder;
import dev.instaflow.train.training.NetworkPair;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes trained networks as an ordinary bundle that {@code InstaFlow.load} and the standard pipeline run:
 * {@code text_encoder.pt}, {@code denoiser.pt}, {@code vae_decoder.pt} (the weightless patch decoder),
 * {@code vae_encoder.pt} (its inverse, for image inputs), {@code tokenizer/} (the reduced CLIP tokenizer) and {@code manifest.json}, plus {@code files.txt} listing every
 * file (the index the CLI uses to extract an embedded model). Written into a staging folder and renamed into place.
 */
public final class ModelBundleWriter {
    /** The index of a bundle's files, one relative path per line. */
    public static final String FILE_INDEX = "files.txt";

    /**
     * What the manifest says about how to sample the model.
     *
     * @param name        model name
     * @param description free text
     * @param steps       default Euler steps
     * @param guidance    default guidance scale (guidance runs only above 1)
     */
    public record Defaults(String name, String description, int steps, double guidance) {
    }

    private ModelBundleWriter() {
    }

    public static Path write(Path bundleDir, NetworkPair networks, ModelConfig config, Path tokenizerFolder,
                             BundleManifest.Text framing, Defaults defaults, Map<String, String> provenance) {
        try (StagedDirectory staged = StagedDirectory.beside(bundleDir)) {
            Path staging = staged.path();
            BundleManifest manifest = manifest(config, framing, defaults, provenance);
            BundleManifest.Parts parts = manifest.parts();
            networks.textEncoder().saveForInference(staging.resolve(parts.textEncoder()));
            networks.denoiser().saveForInference(staging.resolve(parts.denoiser()));
            try (ScriptModuleBuilder decoder = PatchDecoder.build(config)) {
                decoder.save(staging.resolve(parts.vaeDecoder()));
            }
            try (ScriptModuleBuilder encoder = PatchEncoder.build(config)) {
                encoder.save(staging.resolve(parts.vaeEncoder()));
            }
            Path tokenizer = Files.createDirectories(staging.resolve(parts.tokenizer()));
            List<String> tokenizerFiles = List.of("vocab.json", "merges.txt", "special_tokens_map.json",
                    "tokenizer_config.json");
            for (String f : tokenizerFiles) {
                Files.copy(tokenizerFolder.resolve(f), tokenizer.resolve(f));
            }
            ManifestWriter.write(manifest, staging);
            StringBuilder index = new StringBuilder();
            for (String f : List.of(BundleManifest.FILE_NAME, parts.textEncoder(), parts.denoiser(),
                    parts.vaeDecoder(), parts.vaeEncoder())) {
                index.append(f).append('\n');
            }
            tokenizerFiles.forEach(f -> index.append(parts.tokenizer()).append('/').append(f).append('\n'));
            Files.writeString(staging.resolve(FILE_INDEX), index.toString());
            StagedDirectory.deleteTree(bundleDir); // a stage's bundle is rewritten when the stage runs again
            return staged.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the bundle " + bundleDir, e);
        }
    }

    static BundleManifest manifest(ModelConfig config, BundleManifest.Text framing, Defaults defaults,
                                   Map<String, String> provenance) {
        return new BundleManifest(BundleManifest.CURRENT_VERSION, defaults.name(), "rectified-flow",
                defaults.description(), Precision.FLOAT32, "cpu",
                new Prediction.Velocity(1000.0),
                new BundleManifest.Latent(config.latentChannels(), config.patch(), 1.0),
                new BundleManifest.Image(config.imageSize(), config.imageSize(), config.patch()),
                new BundleManifest.Text(framing.maxLength(), config.textWidth(), framing.bosId(), framing.eosId(),
                        framing.padId()),
                new BundleManifest.Sampling(Sampler.euler(), defaults.steps(), defaults.guidance(), ""),
                new BundleManifest.Limits(8 * config.imageSize(), 64, ManifestDefaults.LIMITS.maxSteps()),
                ManifestDefaults.parts(false, true),
                provenance);
    }
}
