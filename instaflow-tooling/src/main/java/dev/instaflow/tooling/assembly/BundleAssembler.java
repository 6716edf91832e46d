package dev.instaflow.tooling.assembly;

import dev.instaflow.Device;
import dev.instaflow.InferenceException;
import dev.instaflow.InvalidModelException;
import dev.instaflow.LoadOptions;
import dev.instaflow.Precision;
import dev.instaflow.engine.TorchModel;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.ManifestDefaults;
import dev.instaflow.engine.bundle.Prediction;
import dev.instaflow.engine.bundle.ManifestReader;
import dev.instaflow.engine.bundle.ManifestWriter;
import dev.instaflow.engine.bundle.StagedDirectory;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.runtime.TorchScriptPart;
import dev.instaflow.engine.text.TokenizerFraming;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Makes a bundle from TorchScript parts and a tokenizer folder (the {@code instaflow bundle} command). What can be
 * learned by running the parts once on the CPU is learned: the text width (text encoder on one framed prompt), the
 * latent channels and upscaling factor (VAE decoder on trial latents), the size multiple (the smallest latent
 * multiple the denoiser accepts), the weights' dtype and device. The rest comes from the {@link BundlePreset};
 * explicit settings override both. The bundle is written to a temporary sibling folder, loaded and checked there,
 * and only then renamed into place, so a failure never leaves a half-written bundle.
 */
public final class BundleAssembler {
    private static final String[] TOKENIZER_FILES = {"vocab.json", "merges.txt", "special_tokens_map.json",
        "tokenizer_config.json", "tokenizer.json"};
    private static final int[] LATENT_CHANNEL_GUESSES = {4, 8, 16, 3, 1, 2, 6, 12, 32};
    private static final int[] LATENT_MULTIPLES = {1, 2, 4, 8, 16, 32, 64};

    private Path textEncoder;
    private Path denoiser;
    private Path vaeDecoder;
    private Path tokenizer;
    private Path refiner;
    private Path vaeEncoder;
    private BundlePreset preset = BundlePreset.INSTAFLOW;
    private String name;
    private Integer width;
    private Integer height;
    private Integer steps;
    private Double guidance;
    private Integer sizeMultiple;
    private Double scalingFactor;
    private String negativePrompt;
    private final Map<String, String> provenance = new LinkedHashMap<>();

    public BundleAssembler textEncoder(Path p) { this.textEncoder = p; return this; }
    public BundleAssembler denoiser(Path p) { this.denoiser = p; return this; }
    public BundleAssembler vaeDecoder(Path p) { this.vaeDecoder = p; return this; }
    public BundleAssembler tokenizer(Path folder) { this.tokenizer = folder; return this; }
    public BundleAssembler refiner(Path p) { this.refiner = p; return this; }
    /** Optional VAE encoder for image inputs: {@code (image [B,3,H,W] in [-1,1]) -> latent mean}. */
    public BundleAssembler vaeEncoder(Path p) { this.vaeEncoder = p; return this; }
    public BundleAssembler preset(BundlePreset p) { this.preset = p; return this; }
    public BundleAssembler name(String n) { this.name = n; return this; }
    public BundleAssembler width(int w) { this.width = w; return this; }
    public BundleAssembler height(int h) { this.height = h; return this; }
    public BundleAssembler steps(int s) { this.steps = s; return this; }
    public BundleAssembler guidance(double g) { this.guidance = g; return this; }
    public BundleAssembler sizeMultiple(int m) { this.sizeMultiple = m; return this; }
    public BundleAssembler scalingFactor(double f) { this.scalingFactor = f; return this; }
    public BundleAssembler negativePrompt(String n) { this.negativePrompt = n; return this; }
    public BundleAssembler provenance(String key, String value) { this.provenance.put(key, value); return this; }

    /**
     * Assembles the bundle into {@code out}, which must not exist or be empty.
     *
     * @return the manifest written
     * @throws InvalidModelException if a part or the tokenizer is unusable (naming the file)
     * @throws IllegalArgumentException if a required input is missing or {@code out} is not empty
     */
    public BundleManifest assemble(Path out) {
        requireInputs(out);
        TorchRuntime.ensureLoaded();
        BundleManifest.Text framing = TokenizerFraming.read(tokenizer);
        BundleManifest manifest;
        try (PointerScope scope = new PointerScope()) {
            manifest = learn(framing);
        }
        // The reader's rules, before anything is written: flags that make an unusable default fail here.
        ManifestReader.parse(out.resolve(BundleManifest.FILE_NAME), ManifestWriter.toJson(manifest));
        try (StagedDirectory staged = StagedDirectory.beside(out)) {
            write(manifest, staged.path());
            check(staged.path());
            staged.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the bundle " + out, e);
        }
        return manifest;
    }

    private void requireInputs(Path out) {
        for (Object[] input : new Object[][] {{textEncoder, "--text-encoder"}, {denoiser, "--denoiser"},
            {vaeDecoder, "--vae-decoder"}, {tokenizer, "--tokenizer"}}) {
            if (input[0] == null) {
                throw new IllegalArgumentException("missing " + input[1]);
            }
            if (!Files.exists((Path) input[0])) {
                throw new IllegalArgumentException(input[1] + " " + input[0] + " does not exist");
            }
        }
        if (!Files.isDirectory(tokenizer)) {
            throw new IllegalArgumentException("--tokenizer " + tokenizer + " is not a folder");
        }
        if (refiner != null && !Files.isRegularFile(refiner)) {
            throw new IllegalArgumentException("--refiner " + refiner + " does not exist");
        }
        if (vaeEncoder != null && !Files.isRegularFile(vaeEncoder)) {
            throw new IllegalArgumentException("--vae-encoder " + vaeEncoder + " does not exist");
        }
        if (Files.exists(out)) {
            boolean empty = false;
            if (Files.isDirectory(out)) {
                try (Stream<Path> entries = Files.list(out)) {
                    empty = entries.findAny().isEmpty();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            if (!empty) {
                throw new IllegalArgumentException("output " + out + " already exists and is not an empty folder");
            }
        }
    }

    private BundleManifest learn(BundleManifest.Text framing) {
        PartFile.requireCpuFloat32("text encoder", textEncoder, "--text-encoder");
        PartFile.requireCpuFloat32("VAE decoder", vaeDecoder, "--vae-decoder");
        PartFile.requireCpuFloat32("denoiser", denoiser, "--denoiser");
        if (refiner != null) {
            PartFile.requireCpuFloat32("velocity refiner", refiner, "--refiner");
        }
        if (vaeEncoder != null) {
            PartFile.requireCpuFloat32("VAE encoder", vaeEncoder, "--vae-encoder");
        }
        try (DeviceContext cpu = DeviceContext.open(java.util.Optional.of(Device.cpu()), Precision.FLOAT32)) {
            int hiddenSize = learnTextWidth(framing, cpu);
            int[] geometry = learnLatentGeometry(cpu);
            int channels = geometry[0];
            int factor = geometry[1];
            int multiple = learnSizeMultiple(framing, hiddenSize, channels, cpu) * factor;
            if (refiner != null) {
                try (TorchScriptPart r = TorchScriptPart.load("velocity refiner", refiner, "--refiner", 3,
                        "(x, v, s)", cpu)) {
                    Tensor x = zeros(1, channels, multiple / factor, multiple / factor);
                    forwardOrExplain(r, "x, v [1, " + channels + ", h, w], s [1]", x, x, full(1, 0.5));
                }
            }
            return manifest(framing, hiddenSize, channels, factor, multiple);
        }
    }

    /** D, from the text encoder's output on one framed empty prompt. */
    private int learnTextWidth(BundleManifest.Text framing, DeviceContext cpu) {
        try (TorchScriptPart te = TorchScriptPart.load("text encoder", textEncoder, "--text-encoder", 1,
                "(input_ids)", cpu)) {
            long[] ids = new long[framing.maxLength()];
            java.util.Arrays.fill(ids, framing.padId());
            ids[0] = framing.bosId();
            ids[1] = framing.eosId();
            Tensor out = forwardOrExplain(te, "token ids [1, " + framing.maxLength() + "]",
                    dev.instaflow.engine.runtime.Tensors.fromLongs(ids, 1, framing.maxLength()));
            if (out.dim() != 3 || out.size(1) != framing.maxLength()) {
                throw new InvalidModelException(textEncoder, "--text-encoder", "the text encoder returned "
                        + dev.instaflow.engine.runtime.Tensors.shapeString(out) + " for ids [1, " + framing.maxLength()
                        + "]; expected [1, " + framing.maxLength() + ", D]");
            }
            return Math.toIntExact(out.size(2));
        }
    }

    /** {channels, factor}: the first latent channel count the decoder accepts, and its upscaling. */
    private int[] learnLatentGeometry(DeviceContext cpu) {
        try (TorchScriptPart vae = TorchScriptPart.load("VAE decoder", vaeDecoder, "--vae-decoder", 1, "(z)", cpu)) {
            int side = 8;
            for (int c : LATENT_CHANNEL_GUESSES) {
                Optional<Tensor> out = tryForward(vae, zeros(1, c, side, side));
                if (out.isPresent() && out.get().dim() == 4 && out.get().size(1) == 3
                        && out.get().size(2) % side == 0 && out.get().size(2) == out.get().size(3)) {
                    return new int[] {c, Math.toIntExact(out.get().size(2) / side)};
                }
            }
            throw new InvalidModelException(vaeDecoder, "--vae-decoder", "the VAE decoder accepted no trial latent"
                    + " [1, C, 8, 8] (C in " + java.util.Arrays.toString(LATENT_CHANNEL_GUESSES) + ") with an image"
                    + " [1, 3, 8f, 8f] out");
        }
    }

    /** The smallest latent multiple m the denoiser accepts: it runs on 3m x 3m (an odd factor, so every level divides). */
    private int learnSizeMultiple(BundleManifest.Text framing, int hiddenSize, int channels, DeviceContext cpu) {
        double probeTime = preset.prediction().probeTimestep();
        try (TorchScriptPart unet = TorchScriptPart.load("denoiser", denoiser, "--denoiser", 3,
                "(sample, timestep, encoder_hidden_states)", cpu)) {
            Tensor text = zeros(1, framing.maxLength(), hiddenSize);
            Tensor t = full(1, probeTime);
            for (int m : LATENT_MULTIPLES) {
                int side = 3 * m;
                Optional<Tensor> out = tryForward(unet, zeros(1, channels, side, side), t, text);
                if (out.isPresent() && out.get().dim() == 4 && out.get().size(1) == channels
                        && out.get().size(2) == side) {
                    return m;
                }
            }
            // Report the real error on a plain size.
            forwardOrExplain(unet, "sample [1, " + channels + ", 64, 64], timestep [1], text [1, "
                    + framing.maxLength() + ", " + hiddenSize + "]", zeros(1, channels, 64, 64), t, text);
            throw new InvalidModelException(denoiser, "--denoiser", "the denoiser accepted no trial latent size"
                    + " (3 x 2^k)");
        }
    }

    private static Optional<Tensor> tryForward(TorchScriptPart part, Tensor... inputs) {
        try {
            return Optional.of(part.forward(inputs));
        } catch (InferenceException e) {
            return Optional.empty();
        }
    }

    private static Tensor forwardOrExplain(TorchScriptPart part, String tried, Tensor... inputs) {
        try {
            return part.forward(inputs);
        } catch (InferenceException e) {
            throw new InvalidModelException(part.source(), part.field(), "failed on " + tried + ": " + e.getMessage(), e);
        }
    }

    private static Tensor zeros(long... shape) {
        return torch.zeros(shape, new TensorOptions(ScalarType.Float));
    }

    private static Tensor full(long size, double value) {
        return torch.full(new long[] {size}, new Scalar(value), new TensorOptions(ScalarType.Float));
    }

    private BundleManifest manifest(BundleManifest.Text framing, int hiddenSize, int channels, int factor,
                                    int multiple) {
        Prediction prediction = preset.prediction();
        String tracedOn = "cpu";
        Precision dtype = Precision.FLOAT32;
        int sizeStep = sizeMultiple != null ? sizeMultiple : multiple;
        if (sizeStep % factor != 0 || sizeStep % multiple != 0) {
            throw new IllegalArgumentException("--size-multiple " + sizeStep + " must be a multiple of the learned "
                    + multiple + " (VAE factor " + factor + " times the denoiser's downsampling)");
        }
        int defaultSide = roundUp(BundlePreset.DEFAULT_LATENT_SIDE * factor, sizeStep);
        int w = width != null ? width : defaultSide;
        int h = height != null ? height : defaultSide;
        Map<String, String> prov = new LinkedHashMap<>();
        prov.put("created_by", "instaflow bundle (instaflow-java)");
        prov.put("created_at", Instant.now().toString());
        prov.put("preset", preset.id());
        prov.put("source_text_encoder", textEncoder.getFileName().toString());
        prov.put("source_denoiser", denoiser.getFileName().toString());
        prov.put("source_vae_decoder", vaeDecoder.getFileName().toString());
        prov.putAll(provenance);
        return new BundleManifest(BundleManifest.CURRENT_VERSION,
                name != null ? name : denoiser.toAbsolutePath().getParent().getFileName() + "-" + preset.id(),
                preset.id(), "", dtype, tracedOn, prediction,
                new BundleManifest.Latent(channels, factor, scalingFactor != null ? scalingFactor : preset.scalingFactor()),
                new BundleManifest.Image(w, h, sizeStep), new BundleManifest.Text(framing.maxLength(), hiddenSize,
                framing.bosId(), framing.eosId(), framing.padId()),
                new BundleManifest.Sampling(preset.sampler(), steps != null ? steps : preset.steps(),
                        guidance != null ? guidance : preset.guidance(), negativePrompt != null ? negativePrompt : ""),
                new BundleManifest.Limits(Math.max(ManifestDefaults.LIMITS.maxSize(), Math.max(w, h)),
                        ManifestDefaults.LIMITS.maxBatch(), ManifestDefaults.LIMITS.maxSteps()),
                ManifestDefaults.parts(refiner != null, vaeEncoder != null), prov);
    }

    private static int roundUp(int value, int multiple) {
        return ((value + multiple - 1) / multiple) * multiple;
    }

    private void write(BundleManifest manifest, Path folder) throws IOException {
        BundleManifest.Parts parts = manifest.parts();
        Files.copy(textEncoder, folder.resolve(parts.textEncoder()));
        Files.copy(denoiser, folder.resolve(parts.denoiser()));
        Files.copy(vaeDecoder, folder.resolve(parts.vaeDecoder()));
        if (refiner != null) {
            Files.copy(refiner, folder.resolve(parts.refiner()));
        }
        if (vaeEncoder != null) {
            Files.copy(vaeEncoder, folder.resolve(parts.vaeEncoder())); // checked by the load in check(...)
        }
        Path tok = Files.createDirectory(folder.resolve(parts.tokenizer()));
        for (String f : TOKENIZER_FILES) {
            if (Files.isRegularFile(tokenizer.resolve(f))) {
                Files.copy(tokenizer.resolve(f), tok.resolve(f));
            }
        }
        ManifestWriter.write(manifest, folder);
    }

    /** Loads the staged bundle as the SDK will (float32 on the CPU), which runs every load-time check. */
    private static void check(Path staging) {
        TorchModel.load(staging, LoadOptions.builder().device(Device.cpu()).warmUp(false).build()).close();
    }
}
