package dev.instaflow.samples.cli;

import dev.instaflow.tooling.assembly.BundleAssembler;
import dev.instaflow.tooling.assembly.BundlePreset;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.bundle.StagedDirectory;
import dev.instaflow.engine.runtime.TorchRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code instaflow bundle}: a bundle from TorchScript parts and a tokenizer folder ({@link BundleAssembler}). */
@Command(name = "bundle", sortOptions = false,
        header = "Makes a model bundle from TorchScript parts and a tokenizer folder.",
        description = {"Runs each part once on the CPU to learn the latent channels, VAE factor, size multiple, text width and"
                    + " dtype; the preset supplies what cannot be learned (prediction type, time convention, scaling"
                    + " factor, sampling defaults); flags override both. The bundle is checked by loading it before"
                    + " it is moved into --out, so a failure leaves nothing behind."})
final class BundleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--text-encoder", paramLabel = "FILE", required = true,
            description = "TorchScript text encoder: ids int64 [B,L] -> [B,L,D].")
    Path textEncoder;

    @Option(names = "--denoiser", paramLabel = "FILE", required = true,
            description = "TorchScript denoiser (UNet): (sample, timestep float32 [B], text) -> [B,C,h,w].")
    Path denoiser;

    @Option(names = "--vae-decoder", paramLabel = "FILE", required = true,
            description = "TorchScript VAE decoder: z [B,C,h,w] -> image [B,3,f*h,f*w].")
    Path vaeDecoder;

    @Option(names = "--tokenizer", paramLabel = "DIR", required = true,
            description = "Tokenizer folder: vocab.json + merges.txt (+ special_tokens_map.json,"
                    + " tokenizer_config.json), or tokenizer.json.")
    Path tokenizer;

    @Option(names = "--preset", paramLabel = "instaflow|rectified-flow|swiftbrush", required = true,
            converter = Converters.PresetConverter.class, description = "Model family.")
    BundlePreset preset;

    @Option(names = "--refiner", paramLabel = "FILE",
            description = "Optional TorchScript velocity refiner (FlowTurbo): (x, v, s float32 [B]) -> delta v.")
    Path refiner;

    @Option(names = "--vae-encoder", paramLabel = "FILE",
            description = "Optional TorchScript VAE encoder for image inputs: (image [B,3,H,W] in [-1,1]) -> latent"
                    + " mean [B,C,H/f,W/f], not scaled.")
    Path vaeEncoder;

    @Option(names = "--name", paramLabel = "S", description = "Model name. Default: <folder of the denoiser>-<preset>.")
    String name;

    @Option(names = "--width", paramLabel = "N", description = "Default image width. Default: the model's own size,"
            + " from the diffusers snapshot beside --tokenizer (unet/config.json sample_size x the VAE factor);"
            + " required when there is none.")
    Integer width;

    @Option(names = "--height", paramLabel = "N", description = "Default image height. Default: as --width.")
    Integer height;

    @Option(names = "--steps", paramLabel = "N", description = "Default sampler steps. Default: the preset's.")
    Integer steps;

    @Option(names = "--guidance", paramLabel = "X", description = "Default guidance scale. Default: the preset's.")
    Double guidance;

    @Option(names = "--size-multiple", paramLabel = "N",
            description = "Width/height multiple. Default: learned (VAE factor x the denoiser's downsampling).")
    Integer sizeMultiple;

    @Option(names = "--scaling-factor", paramLabel = "X", description = "VAE scaling factor. Default: 0.18215.")
    Double scalingFactor;

    @Option(names = "--negative-prompt", paramLabel = "S", description = "Default negative prompt. Default: empty.")
    String negativePrompt;

    @Option(names = "--threads", paramLabel = "N",
            description = "LibTorch intra-op CPU threads. Default: LibTorch's choice (one per core).")
    Integer threads;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "Bundle folder to create (must not exist, or be empty).")
    Path out;

    @Override
    public Integer call() {
        String sizeSource = defaultSize();
        BundleAssembler assembler = new BundleAssembler().textEncoder(textEncoder).denoiser(denoiser)
                .vaeDecoder(vaeDecoder).tokenizer(tokenizer).preset(preset);
        if (vaeEncoder != null) {
            assembler.vaeEncoder(vaeEncoder);
        }
        if (refiner != null) {
            assembler.refiner(refiner);
        }
        if (name != null) {
            assembler.name(name);
        }
        if (width != null) {
            assembler.width(width);
        }
        if (height != null) {
            assembler.height(height);
        }
        if (steps != null) {
            assembler.steps(steps);
        }
        if (guidance != null) {
            assembler.guidance(guidance);
        }
        if (sizeMultiple != null) {
            assembler.sizeMultiple(sizeMultiple);
        }
        if (scalingFactor != null) {
            assembler.scalingFactor(scalingFactor);
        }
        if (negativePrompt != null) {
            assembler.negativePrompt(negativePrompt);
        }
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            }
            TorchRuntime.setIntraOpThreads(threads);
        }
        StagedDirectory.deleteStale(out); // what a killed earlier run left beside --out
        BundleManifest m;
        try (TerminalProgress progress = TerminalProgress.start("bundle", -1, false)) {
            progress.note("running the parts, checking the bundle");
            m = assembler.assemble(out);
        }
        print(m, sizeSource, spec.commandLine().getOut());
        return 0;
    }

    /**
     * Fills unset --width/--height with the size the model was made for, read from its diffusers snapshot; without
     * one, both flags are required (a traced UNet takes any size, and a wrong default is slow or meaningless).
     *
     * @return where the default size came from, for the report
     */
    private String defaultSize() {
        if (width != null && height != null) {
            return "--width/--height";
        }
        if (!java.nio.file.Files.isDirectory(tokenizer)) {
            return "--width/--height"; // the assembler names the missing tokenizer folder
        }
        SnapshotSize size = SnapshotSize.find(tokenizer, denoiser, vaeDecoder).orElseThrow(() ->
                new IllegalArgumentException("give --width and --height: the size the model was made for cannot be"
                        + " learned from TorchScript parts, and no diffusers snapshot configs (unet/config.json with"
                        + " sample_size, vae/config.json) were found beside --tokenizer " + tokenizer
                        + " or the parts (SD 1.5: 512, SD 2.1-base: 512, SD 2.1: 768)"));
        String source = size.source();
        if (width == null) {
            width = size.width();
        } else {
            source = "--width; height from " + source;
        }
        if (height == null) {
            height = size.height();
        } else {
            source = "--height; width from " + source;
        }
        return source;
    }

    private void print(BundleManifest m, String sizeSource, PrintWriter stdout) {
        String prediction = m.prediction().describe();
        BundleManifest.Text text = m.text();
        BundleManifest.Sampling sampling = m.sampling();
        stdout.println("bundle written to " + out);
        stdout.println("  name             " + m.name());
        stdout.println("  preset           " + m.family() + " (" + prediction + ")");
        stdout.println("  latent channels  " + m.latent().channels() + "   (learned)");
        stdout.println("  VAE factor       " + m.latent().vaeScaleFactor() + "   (learned)");
        stdout.println("  size multiple    " + m.image().sizeMultiple()
                + (sizeMultiple != null ? "   (--size-multiple)" : "   (learned)"));
        stdout.println("  text             " + text.maxLength() + " tokens x " + text.hiddenSize()
                + " (learned width; bos " + text.bosId() + ", eos " + text.eosId() + ", pad " + text.padId() + ")");
        stdout.println("  dtype            " + m.dtype().id() + ", traced on " + m.tracedOn() + "   (learned)");
        stdout.println("  scaling factor   " + m.latent().scalingFactor());
        stdout.println("  size             " + m.image().defaultWidth() + "x" + m.image().defaultHeight() + "   ("
                + sizeSource + ")");
        stdout.println("  defaults         " + m.image().defaultWidth() + "x" + m.image().defaultHeight() + ", "
                + sampling.sampler().id() + " " + sampling.steps() + " step(s), guidance " + sampling.guidance()
                + (sampling.negativePrompt().isEmpty() ? "" : ", negative prompt \"" + sampling.negativePrompt() + "\""));
        stdout.println("  refiner          " + (m.parts().refinerPath().isPresent() ? m.parts().refiner() : "none"));
        stdout.println("  vae encoder      " + m.parts().vaeEncoderPath().orElse("none"));
        stdout.flush();
    }
}
