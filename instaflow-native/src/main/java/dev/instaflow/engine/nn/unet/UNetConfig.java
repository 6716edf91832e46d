package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonElement;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.JsonFields;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The configuration of a diffusers {@code UNet2DConditionModel} ({@code unet/config.json}) as far as the built-in
 * network implements it: the SD-1.x / SD-2.x family (cross-attention down/up blocks, a cross-attention mid block,
 * sinusoidal timestep embedding, GEGLU transformer blocks). Absent fields take diffusers' defaults; every option this
 * network does not implement is refused with a message naming the file, the field and the supported values.
 *
 * <p>Per-block lists are expanded to one entry per down block, in down-block order. {@code numAttentionHeads} is the
 * head COUNT per down block: diffusers' {@code num_attention_heads = num_attention_heads or attention_head_dim}
 * (SD configs' {@code attention_head_dim} is really the number of heads); the head width is channels / heads.
 *
 * @param file                      the config file, for messages
 * @param inChannels                {@code in_channels}
 * @param outChannels               {@code out_channels}
 * @param blockOutChannels          {@code block_out_channels}
 * @param downBlockTypes            {@code down_block_types} ({@code CrossAttnDownBlock2D}, {@code DownBlock2D})
 * @param upBlockTypes              {@code up_block_types} ({@code UpBlock2D}, {@code CrossAttnUpBlock2D})
 * @param layersPerBlock            {@code layers_per_block} per down block
 * @param numAttentionHeads         heads per down block
 * @param crossAttentionDim         {@code cross_attention_dim}
 * @param useLinearProjection       {@code use_linear_projection}
 * @param upcastAttention           {@code upcast_attention}
 * @param transformerLayersPerBlock {@code transformer_layers_per_block} per down block
 * @param normNumGroups             {@code norm_num_groups}
 * @param normEps                   {@code norm_eps}
 * @param flipSinToCos              {@code flip_sin_to_cos}
 * @param freqShift                 {@code freq_shift}
 * @param downsamplePadding         {@code downsample_padding}
 * @param midBlockScaleFactor       {@code mid_block_scale_factor}
 * @param sampleSize                {@code sample_size} as {@code [height, width]} in latent cells: the size the
 *                                  model was trained at (one integer in SD configs), pipelines' default
 */
@EntryPoint("a UNet's config: the CLI's inspect")
public record UNetConfig(Path file, int inChannels, int outChannels, int[] blockOutChannels,
                         List<String> downBlockTypes, List<String> upBlockTypes, int[] layersPerBlock,
                         int[] numAttentionHeads, int crossAttentionDim, boolean useLinearProjection,
                         boolean upcastAttention, int[] transformerLayersPerBlock, int normNumGroups, double normEps,
                         boolean flipSinToCos, double freqShift, int downsamplePadding, double midBlockScaleFactor,
                         int[] sampleSize) {

    static final String CROSS_ATTN_DOWN = "CrossAttnDownBlock2D";
    static final String DOWN = "DownBlock2D";
    static final String CROSS_ATTN_UP = "CrossAttnUpBlock2D";
    static final String UP = "UpBlock2D";
    static final String MID = "UNetMidBlock2DCrossAttn";

    private static final String WHAT = "the built-in UNet2DConditionModel";
    private static final int MAX = 1 << 20;

    /** Number of down (and up) blocks. */
    public int blocks() {
        return blockOutChannels.length;
    }

    /** Width of the timestep embedding ({@code block_out_channels[0] * 4}). */
    public int timeEmbedDim() {
        return blockOutChannels[0] * 4;
    }

    /** How many times the down path halves the latent (one downsampler per down block but the last). */
    public int downsamplers() {
        return blocks() - 1;
    }

    boolean crossAttentionDown(int i) {
        return downBlockTypes.get(i).equals(CROSS_ATTN_DOWN);
    }

    boolean crossAttentionUp(int i) {
        return upBlockTypes.get(i).equals(CROSS_ATTN_UP);
    }

    /**
     * Reads and checks {@code unet/config.json}.
     *
     * @throws InvalidModelException naming the file and field of a missing, malformed or unsupported setting
     */
    public static UNetConfig read(Path configJson) {
        JsonFields f = JsonFields.read(configJson);
        f.requireOneOf("_class_name", WHAT, "\"UNet2DConditionModel\"");

        int[] blockOut = f.has("block_out_channels") ? f.integers("block_out_channels", 1, MAX)
                : new int[] {320, 640, 1280, 1280};
        int n = blockOut.length;
        List<String> down = f.has("down_block_types") ? f.strings("down_block_types")
                : List.of(CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, DOWN);
        List<String> up = f.has("up_block_types") ? f.strings("up_block_types")
                : List.of(UP, CROSS_ATTN_UP, CROSS_ATTN_UP, CROSS_ATTN_UP);
        f.markRead("block_out_channels");
        f.markRead("down_block_types");
        f.markRead("up_block_types");
        if (down.size() != n) {
            throw f.error("down_block_types", "has " + down.size() + " entries but block_out_channels has " + n
                    + "; diffusers needs one block type per entry of block_out_channels");
        }
        if (up.size() != n) {
            throw f.error("up_block_types", "has " + up.size() + " entries but down_block_types has " + n
                    + "; diffusers needs as many up blocks as down blocks");
        }
        for (String t : down) {
            if (!t.equals(CROSS_ATTN_DOWN) && !t.equals(DOWN)) {
                throw f.error("down_block_types", "names \"" + t + "\", which " + WHAT + " does not support;"
                        + " supported: " + CROSS_ATTN_DOWN + ", " + DOWN);
            }
        }
        for (String t : up) {
            if (!t.equals(CROSS_ATTN_UP) && !t.equals(UP)) {
                throw f.error("up_block_types", "names \"" + t + "\", which " + WHAT + " does not support;"
                        + " supported: " + UP + ", " + CROSS_ATTN_UP);
            }
        }
        if (f.raw().has("mid_block_type") && f.raw().get("mid_block_type").isJsonNull()) {
            throw f.error("mid_block_type", "is null (no mid block), which " + WHAT + " does not support;"
                    + " supported: \"" + MID + "\"");
        }
        f.requireOneOf("mid_block_type", WHAT, "\"" + MID + "\"");

        int inChannels = f.integer("in_channels", 1, MAX, 4);
        int outChannels = f.integer("out_channels", 1, MAX, 4);
        int[] layers = f.has("layers_per_block") ? f.integerPerEntry("layers_per_block", n, 1, 1024) : fill(n, 2);
        f.markRead("layers_per_block");
        int[] headSetting = f.has("attention_head_dim") ? f.integerPerEntry("attention_head_dim", n, 1, MAX)
                : fill(n, 8);
        f.markRead("attention_head_dim");
        int[] heads = f.has("num_attention_heads") ? f.integerPerEntry("num_attention_heads", n, 1, MAX)
                : headSetting;
        f.markRead("num_attention_heads");
        JsonElement cross = f.raw().get("cross_attention_dim");
        if (cross != null && cross.isJsonArray()) {
            throw f.error("cross_attention_dim", "is a per-block list, which " + WHAT + " does not support;"
                    + " supported: one integer");
        }
        int crossDim = f.integer("cross_attention_dim", 1, MAX, 1280);
        int[] transformerLayers = f.has("transformer_layers_per_block")
                ? f.integerPerEntry("transformer_layers_per_block", n, 1, 1024) : fill(n, 1);
        f.markRead("transformer_layers_per_block");
        if (f.raw().has("norm_num_groups") && f.raw().get("norm_num_groups").isJsonNull()) {
            throw f.error("norm_num_groups", "is null (no output norm), which " + WHAT + " does not support;"
                    + " supported: an integer");
        }
        int groups = f.integer("norm_num_groups", 1, MAX, 32);
        double eps = f.number("norm_eps", 1e-5);
        if (!(eps > 0)) {
            throw f.error("norm_eps", "expected a number > 0, got " + eps);
        }
        f.requireOneOf("act_fn", WHAT, "\"silu\"");
        boolean flip = f.bool("flip_sin_to_cos", true);
        double freqShift = f.number("freq_shift", 0);
        int downsamplePadding = f.integer("downsample_padding", 0, 16, 1);
        double midScale = f.number("mid_block_scale_factor", 1);
        if (midScale == 0) {
            throw f.error("mid_block_scale_factor", "is 0; the mid block's resnets divide by it");
        }
        boolean linear = f.bool("use_linear_projection", false);
        boolean upcast = f.bool("upcast_attention", false);

        for (int i = 0; i < n; i++) {
            if (blockOut[i] % groups != 0) {
                throw f.error("norm_num_groups", "is " + groups + ", which does not divide block_out_channels["
                        + i + "] = " + blockOut[i] + " (GroupNorm needs channels divisible by groups)");
            }
        }
        String headField = f.has("num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
        for (int i = 0; i < n; i++) {
            boolean attends = down.get(i).equals(CROSS_ATTN_DOWN) || up.get(n - 1 - i).equals(CROSS_ATTN_UP)
                    || i == n - 1;
            if (attends && blockOut[i] % heads[i] != 0) {
                throw f.error(headField, "gives " + heads[i] + " heads to the blocks of block_out_channels[" + i
                        + "] = " + blockOut[i] + ", which they do not divide (the head width is channels / heads;"
                        + " in SD configs attention_head_dim is the number of heads)");
            }
        }

        // Settings of the network's structure the built-in network does not implement: only the values that mean
        // "not used" are accepted.
        f.requireOneOf("center_input_sample", WHAT, "false");
        f.requireOneOf("only_cross_attention", WHAT, "false");
        f.requireOneOf("dual_cross_attention", WHAT, "false");
        f.requireOneOf("class_embed_type", WHAT);
        f.requireOneOf("num_class_embeds", WHAT);
        f.requireOneOf("class_embeddings_concat", WHAT, "false");
        f.requireOneOf("projection_class_embeddings_input_dim", WHAT);
        f.requireOneOf("addition_embed_type", WHAT);
        f.requireOneOf("addition_time_embed_dim", WHAT);
        f.requireOneOf("time_cond_proj_dim", WHAT);
        f.requireOneOf("encoder_hid_dim", WHAT);
        f.requireOneOf("encoder_hid_dim_type", WHAT);
        f.requireOneOf("resnet_time_scale_shift", WHAT, "\"default\"");
        f.requireOneOf("time_embedding_type", WHAT, "\"positional\"");
        f.requireOneOf("time_embedding_dim", WHAT);
        f.requireOneOf("time_embedding_act_fn", WHAT);
        f.requireOneOf("timestep_post_act", WHAT);
        f.requireOneOf("conv_in_kernel", WHAT, "3");
        f.requireOneOf("conv_out_kernel", WHAT, "3");
        f.requireOneOf("attention_type", WHAT, "\"default\"");
        f.requireOneOf("cross_attention_norm", WHAT);
        f.requireOneOf("resnet_skip_time_act", WHAT, "false");
        f.requireOneOf("resnet_out_scale_factor", WHAT, "1.0");
        f.requireOneOf("mid_block_only_cross_attention", WHAT, "false");
        f.requireOneOf("reverse_transformer_layers_per_block", WHAT);
        // Read and without effect on the network: dropout is a no-op at inference, sample_size is the pipelines'
        // default size, the addition embedding's head count is only used with an addition_embed_type (refused above).
        f.markRead("dropout");
        int[] sampleSize = !f.has("sample_size") ? new int[] {64, 64}
                : f.raw().get("sample_size").isJsonArray() ? f.integers("sample_size", 2, 1, 1 << 14)
                : fill(2, f.integer("sample_size", 1, 1 << 14));
        f.markRead("addition_embed_type_num_heads");
        List<String> unknown = f.unknownKeys().stream().filter(k -> !k.startsWith("_")).toList();
        if (!unknown.isEmpty()) {
            throw f.error(unknown.get(0), "is not a UNet2DConditionModel setting " + WHAT + " knows"
                    + (unknown.size() > 1 ? " (nor are " + String.join(", ", unknown.subList(1, unknown.size()))
                    + ")" : "") + "; a newer diffusers option that may change the network");
        }
        return new UNetConfig(configJson, inChannels, outChannels, blockOut, List.copyOf(down), List.copyOf(up),
                layers, heads, crossDim, linear, upcast, transformerLayers, groups, eps, flip, freqShift,
                downsamplePadding, midScale, sampleSize);
    }

    private static int[] fill(int n, int v) {
        int[] out = new int[n];
        Arrays.fill(out, v);
        return out;
    }

    @Override
    public String toString() {
        return "UNetConfig[in=" + inChannels + ", out=" + outChannels + ", blocks=" + Arrays.toString(blockOutChannels)
                + ", down=" + downBlockTypes + ", up=" + upBlockTypes + ", layers=" + Arrays.toString(layersPerBlock)
                + ", heads=" + Arrays.toString(numAttentionHeads) + ", cross=" + crossAttentionDim + ", linear="
                + useLinearProjection + ", upcast=" + upcastAttention + ", transformerLayers="
                + Arrays.toString(transformerLayersPerBlock) + ", groups=" + normNumGroups + ", eps=" + normEps
                + ", flip=" + flipSinToCos + ", freqShift=" + freqShift + "]";
    }
}
