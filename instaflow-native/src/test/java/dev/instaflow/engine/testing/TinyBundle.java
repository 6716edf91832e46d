package dev.instaflow.engine.testing;

import dev.instaflow.Precision;
import dev.instaflow.Sampler;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.Prediction;
import dev.instaflow.engine.bundle.ManifestWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A bundle of the shared tiny SD-1.5-shaped model, made in a temporary folder from the fixture's TorchScript parts
 * and tokenizer files with a manifest written here from the fixture README's facts (latent 4 channels, VAE factor 2,
 * text 77 x 32, SD 1.5 ids). Independent of the {@code bundle} command, which has its own tests.
 */
public final class TinyBundle {
    private TinyBundle() {
    }

    /** The manifest of the tiny model as an InstaFlow (velocity) bundle. */
    public static BundleManifest manifest() {
        return new BundleManifest(1, "tiny-sd15", "instaflow", "tiny random-weight SD-1.5-shaped test model",
                Precision.FLOAT32, "cpu",
                new Prediction.Velocity(1000.0),
                new BundleManifest.Latent(4, 2, 0.18215),
                new BundleManifest.Image(32, 32, 4),
                new BundleManifest.Text(77, 32, 49406, 49407, 49407),
                new BundleManifest.Sampling(Sampler.euler(), 1, 0.0, ""),
                new BundleManifest.Limits(256, 16, 1000),
                new BundleManifest.Parts("text_encoder.pt", "unet.pt", "vae_decoder.pt", "tokenizer", null),
                Map.of("source", "shared/fixtures/tiny-sd15"));
    }

    /** Writes the tiny bundle into {@code directory} (created if needed). */
    public static Path create(Path directory) {
        return create(directory, UnaryOperator.identity());
    }

    /** Writes the tiny bundle with an edited manifest. */
    public static Path create(Path directory, UnaryOperator<BundleManifest> edit) {
        Path fixture = SharedFixtures.tinySd15();
        try {
            Files.createDirectories(directory.resolve("tokenizer"));
            for (String part : new String[] {"text_encoder.pt", "unet.pt", "vae_decoder.pt"}) {
                Files.copy(fixture.resolve("torchscript").resolve(part), directory.resolve(part));
            }
            for (String file : new String[] {"vocab.json", "merges.txt", "special_tokens_map.json",
                "tokenizer_config.json"}) {
                Files.copy(fixture.resolve("model/tokenizer").resolve(file), directory.resolve("tokenizer").resolve(file));
            }
            ManifestWriter.write(edit.apply(manifest()), directory);
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The tiny model read as a SwiftBrush-style epsilon predictor (timestep 999, alpha_bar 0.0047). */
    public static Path asEpsilonModel(Path directory) {
        return create(directory, m -> new BundleManifest(m.formatVersion(), m.name(), "swiftbrush", m.description(),
                m.dtype(), m.tracedOn(), new Prediction.Epsilon(999, 0.0047), m.latent(), m.image(), m.text(), m.sampling(), m.limits(), m.parts(), m.provenance()));
    }

    /** Adds the FlowTurbo reference case's tiny velocity refiner as the bundle's refiner part. */
    public static Path withRefiner(Path directory) {
        Path bundle = create(directory, m -> new BundleManifest(m.formatVersion(), m.name(), "rectified-flow",
                m.description(), m.dtype(), m.tracedOn(), m.prediction(), m.latent(), m.image(), m.text(), m.sampling(),
                m.limits(), new BundleManifest.Parts(m.parts().textEncoder(), m.parts().denoiser(),
                m.parts().vaeDecoder(), m.parts().tokenizer(), "refiner.pt"), m.provenance()));
        try {
            Files.copy(SharedFixtures.referenceCase("flowturbo_h1p1r2_cfg1.5").resolve("refiner.pt"),
                    bundle.resolve("refiner.pt"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bundle;
    }
}
