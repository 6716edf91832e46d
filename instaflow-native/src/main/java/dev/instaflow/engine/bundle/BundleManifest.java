package dev.instaflow.engine.bundle;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.Precision;
import dev.instaflow.Sampler;

import java.util.Map;
import java.util.Optional;

/**
 * The parsed, validated {@code manifest.json} of a bundle, format version 1 ({@code docs/bundle-format.md}).
 * Every model-specific constant the pipeline uses comes from here; code holds none of them.
 *
 * @param formatVersion the format version the file was written in (1)
 * @param name          a human-readable model name
 * @param family        the model family: {@code instaflow}, {@code rectified-flow}, {@code swiftbrush}, or other
 * @param description   free text (may be empty)
 * @param dtype         precision of the TorchScript parts' weights
 * @param tracedOn      device the parts were traced on ({@code cpu} or {@code cuda}); traced graphs can pin it
 * @param prediction    what the denoiser predicts and how time is fed to it
 * @param latent        latent space geometry and scaling
 * @param image         default size and the size multiple
 * @param text          tokenizer framing and text encoder width
 * @param sampling      default sampler settings
 * @param limits        bounds a request is checked against
 * @param parts         the part files, relative to the bundle directory
 * @param provenance    who made the bundle from what (free-form strings)
 */
@EntryPoint("the bundle format as a value: the CLI (inspect, bundle, tokenize), training's export, tooling, the default model")
public record BundleManifest(int formatVersion, String name, String family, String description, Precision dtype,
                             String tracedOn, Prediction prediction, Latent latent, Image image, Text text,
                             Sampling sampling, Limits limits, Parts parts, Map<String, String> provenance) {

    /** The manifest file name inside a bundle directory. */
    public static final String FILE_NAME = "manifest.json";
    /** The value of the {@code format} field (from {@link ManifestDefaults}, shared with the Python exporter). */
    public static final String FORMAT = ManifestDefaults.FORMAT;
    /** The newest format version this SDK reads and writes. */
    public static final int CURRENT_VERSION = 1;

    public BundleManifest {
        provenance = Map.copyOf(provenance);
    }

    /**
     * A hint for load-time failures of parts that run on another device or in another precision than they were
     * traced for: traced graphs can pin the device (constants created with {@code device=...}) and the dtype (casts
     * and constants) they were traced with. Empty when nothing differs.
     */
    public String loadHint(boolean runningOnCuda, Precision runningPrecision) {
        StringBuilder hint = new StringBuilder();
        String running = runningOnCuda ? "cuda" : "cpu";
        if (!tracedOn.equals(running)) {
            hint.append(". Note: this bundle was traced on ").append(tracedOn).append(" and is being loaded on ")
                    .append(running).append("; traced graphs can pin their device, so load it on ").append(tracedOn)
                    .append(" or re-export it with --device ").append(running);
        }
        if (runningPrecision != dtype) {
            hint.append(". Note: this bundle is ").append(dtype).append(" and its weights were cast to ")
                    .append(runningPrecision).append(" at load (LoadOptions.precision); traced graphs can fix their")
                    .append(" dtype, so load it in ").append(dtype).append(" or export it in ").append(runningPrecision);
        }
        return hint.toString();
    }

    /**
     * @param channels       latent channels (4 for SD)
     * @param vaeScaleFactor pixels per latent cell along a side (8 for SD)
     * @param scalingFactor  latents are divided by this before decoding (0.18215 for SD 1.5 / 2.1)
     */
    public record Latent(int channels, int vaeScaleFactor, double scalingFactor) {
    }

    /**
     * @param defaultWidth  default image width in pixels
     * @param defaultHeight default image height in pixels
     * @param sizeMultiple  width and height must be multiples of this (VAE factor times the denoiser's downsampling)
     */
    public record Image(int defaultWidth, int defaultHeight, int sizeMultiple) {
    }

    /**
     * @param maxLength  token ids per prompt, including the markers (77 for CLIP)
     * @param hiddenSize width of the text encoder's output (768 for SD 1.5, 1024 for SD 2.x)
     * @param bosId      begin-of-text id
     * @param eosId      end-of-text id
     * @param padId      padding id (49407 for SD 1.5, 0 for SD 2.x)
     */
    public record Text(int maxLength, int hiddenSize, long bosId, long eosId, long padId) {
    }

    /**
     * @param sampler        default sampler
     * @param steps          default steps
     * @param guidance       default guidance scale (guidance runs only above 1)
     * @param negativePrompt default negative prompt
     */
    public record Sampling(Sampler sampler, int steps, double guidance, String negativePrompt) {
    }

    /**
     * @param maxSize  largest width or height in pixels
     * @param maxBatch largest number of images per call
     * @param maxSteps largest number of sampler steps
     */
    public record Limits(int maxSize, int maxBatch, int maxSteps) {
    }

    /**
     * Part paths relative to the bundle directory.
     *
     * @param textEncoder TorchScript: {@code ids int64 [B,L] -> [B,L,D]}
     * @param denoiser    TorchScript: {@code (sample [B,C,h,w], timestep float32 [B], text [B,L,D]) -> [B,C,h,w]}
     * @param vaeDecoder  TorchScript: {@code z [B,C,h,w] -> [B,3,f*h,f*w]} (z already divided by the scaling factor)
     * @param tokenizer   folder with {@code vocab.json} + {@code merges.txt} (and optionally {@code tokenizer.json})
     * @param refiner     optional TorchScript velocity refiner: {@code (x, v, s float32 [B]) -> delta_v}
     * @param vaeEncoder  optional TorchScript VAE encoder for image inputs:
     *                    {@code image [B,3,H,W] in [-1,1] -> latent mean [B,C,H/f,W/f]} (not scaled)
     */
    public record Parts(String textEncoder, String denoiser, String vaeDecoder, String tokenizer, String refiner,
                        String vaeEncoder) {
        /** Parts without a VAE encoder. */
        public Parts(String textEncoder, String denoiser, String vaeDecoder, String tokenizer, String refiner) {
            this(textEncoder, denoiser, vaeDecoder, tokenizer, refiner, null);
        }

        public Optional<String> refinerPath() {
            return Optional.ofNullable(refiner);
        }

        public Optional<String> vaeEncoderPath() {
            return Optional.ofNullable(vaeEncoder);
        }
    }
}
