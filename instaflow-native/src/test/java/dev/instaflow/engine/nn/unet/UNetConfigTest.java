package dev.instaflow.engine.nn.unet;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.testing.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading {@code unet/config.json}: the fixtures' values, diffusers' head-count quirk, and the refusals. */
class UNetConfigTest {
    @TempDir
    Path temp;

    @Test
    void tinySd15() {
        UNetConfig c = UNetConfig.read(SharedFixtures.tinySd15().resolve("model/unet/config.json"));
        assertArrayEquals(new int[] {32, 64}, c.blockOutChannels());
        assertEquals(List.of("CrossAttnDownBlock2D", "DownBlock2D"), c.downBlockTypes());
        assertEquals(List.of("UpBlock2D", "CrossAttnUpBlock2D"), c.upBlockTypes());
        assertArrayEquals(new int[] {2, 2}, c.layersPerBlock());
        assertArrayEquals(new int[] {8, 8}, c.numAttentionHeads(), "attention_head_dim 8 is 8 heads per block");
        assertArrayEquals(new int[] {1, 1}, c.transformerLayersPerBlock());
        assertEquals(32, c.crossAttentionDim());
        assertFalse(c.useLinearProjection());
        assertEquals(128, c.timeEmbedDim());
        assertEquals(1, c.downsamplers());
        assertTrue(c.flipSinToCos());
        assertEquals(0.0, c.freqShift());
        assertEquals(1e-5, c.normEps());
    }

    @Test
    void tinySd21HeadCountsPerBlock() {
        UNetConfig c = UNetConfig.read(SharedFixtures.tinySd21().resolve("model/unet/config.json"));
        assertArrayEquals(new int[] {2, 4}, c.numAttentionHeads());
        assertEquals(48, c.crossAttentionDim());
        assertTrue(c.useLinearProjection());
    }

    @Test
    void numAttentionHeadsWinsOverAttentionHeadDim() throws IOException {
        UNetConfig c = UNetConfig.read(edited("num_attention_heads", JsonParser.parseString("[4, 8]")));
        assertArrayEquals(new int[] {4, 8}, c.numAttentionHeads());
    }

    @Test
    void absentFieldsTakeDiffusersDefaults() throws IOException {
        JsonObject o = new JsonObject();
        o.add("block_out_channels", JsonParser.parseString("[32, 64]"));
        o.add("down_block_types", JsonParser.parseString("[\"CrossAttnDownBlock2D\", \"DownBlock2D\"]"));
        o.add("up_block_types", JsonParser.parseString("[\"UpBlock2D\", \"CrossAttnUpBlock2D\"]"));
        Path file = temp.resolve("minimal.json");
        Files.writeString(file, o.toString());
        UNetConfig c = UNetConfig.read(file);
        assertEquals(4, c.inChannels());
        assertEquals(1280, c.crossAttentionDim());
        assertArrayEquals(new int[] {8, 8}, c.numAttentionHeads());
        assertArrayEquals(new int[] {2, 2}, c.layersPerBlock());
        assertEquals(32, c.normNumGroups());
        assertEquals(1, c.downsamplePadding());
    }

    @Test
    void classEmbeddingIsRefusedNamingTheField() throws IOException {
        InvalidModelException e = refused("class_embed_type", new JsonPrimitive("timestep"));
        assertTrue(e.getMessage().contains("\"timestep\""), e.getMessage());
        assertTrue(e.getMessage().contains("supported: null"), e.getMessage());
    }

    @Test
    void scaleShiftResnetsAreRefusedNamingTheField() throws IOException {
        InvalidModelException e = refused("resnet_time_scale_shift", new JsonPrimitive("scale_shift"));
        assertTrue(e.getMessage().contains("supported: null, \"default\""), e.getMessage());
    }

    @Test
    void everyUnimplementedOptionIsRefused() throws IOException {
        refused("addition_embed_type", new JsonPrimitive("text_time"));
        refused("addition_time_embed_dim", new JsonPrimitive(256));
        refused("time_cond_proj_dim", new JsonPrimitive(256));
        refused("encoder_hid_dim", new JsonPrimitive(768));
        refused("encoder_hid_dim_type", new JsonPrimitive("text_proj"));
        refused("time_embedding_type", new JsonPrimitive("fourier"));
        refused("time_embedding_dim", new JsonPrimitive(256));
        refused("time_embedding_act_fn", new JsonPrimitive("silu"));
        refused("timestep_post_act", new JsonPrimitive("silu"));
        refused("conv_in_kernel", new JsonPrimitive(1));
        refused("conv_out_kernel", new JsonPrimitive(1));
        refused("attention_type", new JsonPrimitive("gated"));
        refused("cross_attention_norm", new JsonPrimitive("group_norm"));
        refused("resnet_skip_time_act", new JsonPrimitive(true));
        refused("resnet_out_scale_factor", new JsonPrimitive(2.0));
        refused("num_class_embeds", new JsonPrimitive(10));
        refused("projection_class_embeddings_input_dim", new JsonPrimitive(2816));
        refused("mid_block_only_cross_attention", new JsonPrimitive(true));
        refused("reverse_transformer_layers_per_block", JsonParser.parseString("[[1, 1, 1], [1, 1, 1]]"));
        refused("center_input_sample", new JsonPrimitive(true));
        refused("only_cross_attention", new JsonPrimitive(true));
        refused("dual_cross_attention", new JsonPrimitive(true));
        refused("class_embeddings_concat", new JsonPrimitive(true));
        refused("act_fn", new JsonPrimitive("mish"));
        refused("mid_block_type", new JsonPrimitive("UNetMidBlock2DSimpleCrossAttn"));
        refused("mid_block_type", com.google.gson.JsonNull.INSTANCE);
        refused("down_block_types", JsonParser.parseString("[\"AttnDownBlock2D\", \"DownBlock2D\"]"));
        refused("up_block_types", JsonParser.parseString("[\"UpBlock2D\"]"));
        refused("attention_head_dim", JsonParser.parseString("[2, 4, 8]"));
        refused("attention_head_dim", new JsonPrimitive(5));
        refused("cross_attention_dim", JsonParser.parseString("[32, 32]"));
        refused("norm_num_groups", new JsonPrimitive(24));
        refused("some_future_option", new JsonPrimitive(true));
    }

    @Test
    void valuesMeaningUnusedAreAccepted() throws IOException {
        UNetConfig.read(edited("resnet_out_scale_factor", new JsonPrimitive(1)));
        UNetConfig.read(edited("mid_block_only_cross_attention", new JsonPrimitive(false)));
        UNetConfig.read(edited("_use_default_values", JsonParser.parseString("[\"dropout\"]")));
    }

    private InvalidModelException refused(String field, JsonElement value) throws IOException {
        Path file = edited(field, value);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> UNetConfig.read(file),
                field + " = " + value);
        assertEquals(Optional.of(field), e.field(), e.getMessage());
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        return e;
    }

    /** tiny-sd15's UNet config with {@code field} set to {@code value}. */
    private Path edited(String field, JsonElement value) throws IOException {
        JsonObject o = JsonParser.parseString(Files.readString(SharedFixtures.tinySd15()
                .resolve("model/unet/config.json"))).getAsJsonObject();
        o.add(field, value);
        Path file = Files.createTempFile(temp, "config", ".json");
        Files.writeString(file, o.toString());
        return file;
    }
}
