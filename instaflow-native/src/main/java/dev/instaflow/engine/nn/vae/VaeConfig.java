package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.JsonFields;
import dev.instaflow.engine.nn.Activation;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The architecture of a diffusers {@code AutoencoderKL}, read from a snapshot's {@code vae/config.json}: the fields
 * its {@code __init__} takes, with diffusers' defaults where a field may be absent. Only the configurations the Java
 * networks implement are accepted; any other fails at load naming the field and what is supported.
 *
 * @param inChannels             image channels the encoder takes
 * @param outChannels            image channels the decoder gives
 * @param latentChannels         {@code latent_channels}
 * @param blockOutChannels       {@code block_out_channels}, one per down (and, reversed, up) block
 * @param layersPerBlock         {@code layers_per_block}: resnets per encoder block (the decoder's blocks have one more)
 * @param normGroups             {@code norm_num_groups}
 * @param activation             {@code act_fn}
 * @param scalingFactor          {@code scaling_factor} (> 0): latents are {@code mean · scalingFactor}
 * @param sampleSize             {@code sample_size} (one or two integers; informative, for tiling in diffusers)
 * @param forceUpcast            {@code force_upcast} (informative: diffusers runs the VAE in float32 when set)
 * @param useQuantConv           {@code use_quant_conv}
 * @param usePostQuantConv       {@code use_post_quant_conv}
 * @param midBlockAddAttention   {@code mid_block_add_attention}
 * @param file                   the config file, for messages
 */
@EntryPoint("a VAE's config: the CLI's inspect")
public record VaeConfig(int inChannels, int outChannels, int latentChannels, int[] blockOutChannels,
                        int layersPerBlock, int normGroups, Activation activation, double scalingFactor,
                        int[] sampleSize, boolean forceUpcast, boolean useQuantConv, boolean usePostQuantConv,
                        boolean midBlockAddAttention, Path file) {

    /** The only down block type the Java encoder implements. */
    public static final String DOWN_BLOCK = "DownEncoderBlock2D";
    /** The only up block type the Java decoder implements. */
    public static final String UP_BLOCK = "UpDecoderBlock2D";

    private static final int MAX_CHANNELS = 1 << 16;
    /** diffusers' {@code AutoencoderKL} default for a config without {@code scaling_factor} (SD's VAE). */
    static final double DIFFUSERS_DEFAULT_SCALING_FACTOR = 0.18215;

    public VaeConfig {
        blockOutChannels = blockOutChannels.clone();
        sampleSize = sampleSize.clone();
    }

    /**
     * Reads and checks {@code config.json} of a {@code vae/} folder.
     *
     * @throws InvalidModelException naming the file and the field for a missing or unsupported value
     */
    public static VaeConfig read(Path configJson) {
        JsonFields f = JsonFields.read(configJson);
        String className = f.string("_class_name", "AutoencoderKL");
        if (!className.equals("AutoencoderKL")) {
            throw f.error("_class_name", "is \"" + className + "\"; the built-in VAE supports AutoencoderKL only");
        }
        f.markRead("_diffusers_version");
        f.markRead("_name_or_path");
        int in = f.integer("in_channels", 1, MAX_CHANNELS, 3);
        int out = f.integer("out_channels", 1, MAX_CHANNELS, 3);
        int latent = f.integer("latent_channels", 1, MAX_CHANNELS, 4);
        int[] blocks = f.has("block_out_channels") ? f.integers("block_out_channels", 1, MAX_CHANNELS) : new int[] {64};
        int groups = f.integer("norm_num_groups", 1, MAX_CHANNELS, 32);
        for (int i = 0; i < blocks.length; i++) {
            if (blocks[i] % groups != 0) {
                throw f.error("block_out_channels", "entry " + i + " (" + blocks[i] + ") is not divisible by"
                        + " norm_num_groups (" + groups + ")");
            }
        }
        requireAll(f, "down_block_types", DOWN_BLOCK, blocks.length);
        requireAll(f, "up_block_types", UP_BLOCK, blocks.length);
        int layers = f.integer("layers_per_block", 1, 1024, 1);
        Activation act = Activation.fromConfig(f.string("act_fn", "silu"), configJson, "act_fn");
        if (act != Activation.SILU) {
            throw f.error("act_fn", "is \"" + act.configName() + "\"; the built-in VAE supports \"silu\" only");
        }
        double scaling = f.has("scaling_factor") ? f.positiveNumber("scaling_factor")
                : DIFFUSERS_DEFAULT_SCALING_FACTOR;
        int[] sample;
        f.markRead("sample_size");
        if (!f.has("sample_size")) {
            sample = new int[] {32};
        } else if (f.raw().get("sample_size").isJsonArray()) {
            sample = f.integers("sample_size", 1, Integer.MAX_VALUE);
        } else {
            sample = new int[] {f.integer("sample_size", 1, Integer.MAX_VALUE)};
        }
        boolean upcast = f.bool("force_upcast", true);
        boolean quant = f.bool("use_quant_conv", true);
        boolean postQuant = f.bool("use_post_quant_conv", true);
        boolean midAttention = f.bool("mid_block_add_attention", true);
        f.requireOneOf("shift_factor", "the built-in VAE (latents = mean · scaling_factor, no shift)");
        f.requireOneOf("latents_mean", "the built-in VAE (latents = mean · scaling_factor, no per-channel statistics)");
        f.requireOneOf("latents_std", "the built-in VAE (latents = mean · scaling_factor, no per-channel statistics)");
        return new VaeConfig(in, out, latent, blocks, layers, groups, act, scaling, sample, upcast, quant, postQuant,
                midAttention, configJson);
    }

    private static void requireAll(JsonFields f, String field, String supported, int count) {
        List<String> types = f.has(field) ? f.strings(field) : List.of(supported);
        if (types.size() != count) {
            throw f.error(field, "has " + types.size() + " entries but block_out_channels has " + count);
        }
        for (int i = 0; i < types.size(); i++) {
            if (!types.get(i).equals(supported)) {
                throw f.error(field, "entry " + i + " is \"" + types.get(i) + "\"; the built-in VAE supports \""
                        + supported + "\" only");
            }
        }
    }

    /** {@code 2^(len(block_out_channels) - 1)}, as diffusers' pipelines compute {@code vae_scale_factor}. */
    public int vaeScaleFactor() {
        return 1 << (blockOutChannels.length - 1);
    }

    /** Number of down (and up) blocks. */
    public int blocks() {
        return blockOutChannels.length;
    }

    /** {@code block_out_channels[i]}. */
    public int blockChannels(int i) {
        return blockOutChannels[i];
    }

    @Override
    public int[] blockOutChannels() {
        return blockOutChannels.clone();
    }

    @Override
    public int[] sampleSize() {
        return sampleSize.clone();
    }

    /** Value equality (the arrays compared by content). */
    @Override
    public boolean equals(Object o) {
        return o instanceof VaeConfig c && inChannels == c.inChannels && outChannels == c.outChannels
                && latentChannels == c.latentChannels && Arrays.equals(blockOutChannels, c.blockOutChannels)
                && layersPerBlock == c.layersPerBlock && normGroups == c.normGroups && activation == c.activation
                && Double.compare(scalingFactor, c.scalingFactor) == 0 && Arrays.equals(sampleSize, c.sampleSize)
                && forceUpcast == c.forceUpcast && useQuantConv == c.useQuantConv
                && usePostQuantConv == c.usePostQuantConv && midBlockAddAttention == c.midBlockAddAttention
                && java.util.Objects.equals(file, c.file);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(inChannels, outChannels, latentChannels, Arrays.hashCode(blockOutChannels),
                layersPerBlock, normGroups, activation, scalingFactor, Arrays.hashCode(sampleSize), forceUpcast,
                useQuantConv, usePostQuantConv, midBlockAddAttention, file);
    }

    @Override
    public String toString() {
        return "VaeConfig[in=" + inChannels + ", out=" + outChannels + ", latent=" + latentChannels + ", blocks="
                + Arrays.toString(blockOutChannels) + ", layers=" + layersPerBlock + ", groups=" + normGroups
                + ", scaling=" + scalingFactor + "]";
    }
}
