package dev.instaflow.tooling.demo;

import com.google.gson.JsonObject;
import dev.instaflow.Precision;
import dev.instaflow.Sampler;
import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.ManifestDefaults;
import dev.instaflow.engine.bundle.Prediction;
import dev.instaflow.engine.bundle.ManifestWriter;
import dev.instaflow.engine.bundle.StagedDirectory;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.text.ClipTokenizerFiles;
import dev.instaflow.engine.text.TokenizerFraming;
import dev.instaflow.tooling.assembly.BundlePreset;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A DEMO bundle built entirely by this project's code: small networks with fixed random weights (seeded), written
 * as TorchScript from Java, and a byte-level CLIP-style tokenizer generated here. It exercises the whole pipeline on
 * any machine without downloading anything; <b>its images are not meaningful</b> (they are smooth colour fields
 * that change with the prompt and seed). See {@code docs/models.md} for real models.
 */
public final class DemoBundle {
    /** Bumped when the demo networks change, so a cached copy is rebuilt. */
    public static final int VERSION = 1;
    static final String BOS = TokenizerFraming.CLIP_BOS;
    static final String EOS = TokenizerFraming.CLIP_EOS;
    /** CLIP's text length: the demo tokenizer frames prompts as CLIP does. */
    private static final int TEXT_LENGTH = TokenizerFraming.CLIP_MAX_LENGTH;
    private static final int TEXT_WIDTH = 32;
    private static final int HIDDEN = 32;
    private static final int LATENT = 4;
    private static final int FACTOR = 8;
    private static final long SEED = 20240501L;

    private DemoBundle() {
    }

    /**
     * Writes the demo bundle into {@code directory} (which must not exist or be empty), atomically.
     *
     * @throws UncheckedIOException if it cannot be written, or {@code directory} appeared meanwhile
     */
    public static Path write(Path directory) {
        TorchRuntime.ensureLoaded();
        try (StagedDirectory staged = StagedDirectory.beside(directory); PointerScope scope = new PointerScope()) {
            Path folder = staged.path();
            Generator g = torch.createCPUGenerator(SEED);
            try (ScriptModuleBuilder textEncoder = textEncoder(g); ScriptModuleBuilder denoiser = denoiser(g);
                 ScriptModuleBuilder vaeDecoder = vaeDecoder(g)) {
                textEncoder.save(folder.resolve(ManifestDefaults.TEXT_ENCODER_FILE));
                denoiser.save(folder.resolve(ManifestDefaults.DENOISER_FILE));
                vaeDecoder.save(folder.resolve(ManifestDefaults.VAE_DECODER_FILE));
            }
            tokenizer(folder.resolve(ManifestDefaults.TOKENIZER_FOLDER));
            ManifestWriter.write(manifest(), folder);
            return staged.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the demo bundle to " + directory, e);
        }
    }

    static BundleManifest manifest() {
        return new BundleManifest(BundleManifest.CURRENT_VERSION, "instaflow-demo-v" + VERSION, "demo",
                "DEMO: tiny networks with fixed random weights built by instaflow-java; images are not meaningful."
                        + " See docs/models.md for real models.",
                Precision.FLOAT32, "cpu", new Prediction.Velocity(1000.0),
                new BundleManifest.Latent(LATENT, FACTOR, BundlePreset.SD_SCALING_FACTOR), new BundleManifest.Image(256, 256, FACTOR),
                new BundleManifest.Text(TEXT_LENGTH, TEXT_WIDTH, 512, 513, 513),
                new BundleManifest.Sampling(Sampler.euler(), 1, 0.0, ""),
                new BundleManifest.Limits(1024, ManifestDefaults.LIMITS.maxBatch(), ManifestDefaults.LIMITS.maxSteps()),
                ManifestDefaults.parts(false, false),
                Map.of("created_by", "instaflow-java DemoBundle v" + VERSION, "weights", "random, seed " + SEED));
    }

    private static Tensor randn(Generator g, double scale, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float)).mul(new Scalar(scale));
    }

    private static ScriptModuleBuilder textEncoder(Generator g) {
        return new ScriptModuleBuilder("DemoTextEncoder")
                .parameter("token_embedding", randn(g, 1.0, 514, TEXT_WIDTH))
                .parameter("position_embedding", randn(g, 0.1, TEXT_LENGTH, TEXT_WIDTH))
                .parameter("norm_weight", torch.ones(TEXT_WIDTH))
                .parameter("norm_bias", torch.zeros(TEXT_WIDTH))
                .define("def forward(self, input_ids: Tensor) -> Tensor:\n"
                        + "    h = torch.embedding(self.token_embedding, input_ids) + self.position_embedding\n"
                        + "    return torch.layer_norm(h, [" + TEXT_WIDTH + "], self.norm_weight, self.norm_bias, 1e-5)\n");
    }

    private static ScriptModuleBuilder denoiser(Generator g) {
        Tensor freqs = torch.exp(torch.arange(new Scalar(0), new Scalar(8)).to(ScalarType.Float)
                .mul(new Scalar(-Math.log(10000.0) / 8)));
        return new ScriptModuleBuilder("DemoVelocityNet")
                .buffer("freqs", freqs)
                .parameter("w_film", randn(g, 0.3, 16 + TEXT_WIDTH, 2 * HIDDEN))
                .parameter("b_film", torch.zeros(2 * HIDDEN))
                .parameter("w_in", randn(g, 0.2, HIDDEN, LATENT, 3, 3))
                .parameter("b_in", torch.zeros(HIDDEN))
                .parameter("w_out", randn(g, 0.05, LATENT, HIDDEN, 3, 3))
                .parameter("b_out", torch.zeros(LATENT))
                .define("def forward(self, sample: Tensor, timestep: Tensor, encoder_hidden_states: Tensor) -> Tensor:\n"
                        + "    args = timestep[:, None] * self.freqs[None, :]\n"
                        + "    temb = torch.cat([torch.cos(args), torch.sin(args)], 1)\n"
                        + "    text = torch.mean(encoder_hidden_states, 1)\n"
                        + "    film = torch.matmul(torch.cat([temb, text], 1), self.w_film) + self.b_film\n"
                        + "    scale, shift = torch.chunk(film, 2, 1)\n"
                        + "    h = torch.conv2d(sample, self.w_in, self.b_in, [1, 1], [1, 1])\n"
                        + "    h = torch.silu(h * (1.0 + scale[:, :, None, None]) + shift[:, :, None, None])\n"
                        + "    return torch.conv2d(h, self.w_out, self.b_out, [1, 1], [1, 1]) - 0.5 * sample\n");
    }

    private static ScriptModuleBuilder vaeDecoder(Generator g) {
        return new ScriptModuleBuilder("DemoVaeDecoder")
                .parameter("w_out", randn(g, 0.4, 3, LATENT, 1, 1))
                .parameter("b_out", torch.zeros(3))
                .define("def forward(self, z: Tensor) -> Tensor:\n"
                        + "    size = [z.size(2) * " + FACTOR + ", z.size(3) * " + FACTOR + "]\n"
                        + "    up = torch.upsample_bilinear2d(z * " + BundlePreset.SD_SCALING_FACTOR + ", size, False, None)\n"
                        + "    return torch.tanh(torch.conv2d(up, self.w_out, self.b_out, [1, 1], [0, 0]))\n");
    }

    private static void tokenizer(Path folder) throws IOException {
        Files.createDirectories(folder);
        JsonObject vocab = ByteLevelVocabulary.vocabulary();
        Files.writeString(folder.resolve("vocab.json"), vocab.toString(), StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("merges.txt"), "#version: 0.2\n", StandardCharsets.UTF_8);
        ClipTokenizerFiles.writeSpecialTokenFiles(folder, BOS, EOS, TEXT_LENGTH);
    }
}
