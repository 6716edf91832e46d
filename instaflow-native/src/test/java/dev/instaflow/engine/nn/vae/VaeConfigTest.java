package dev.instaflow.engine.nn.vae;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.testing.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code vae/config.json}: the fixtures' values, diffusers' defaults, and refusals that name the field. */
class VaeConfigTest {
    @TempDir
    Path temp;

    @Test
    void readsTheFixture() {
        VaeConfig c = VaeConfig.read(SharedFixtures.tinySd15().resolve("model/vae/config.json"));
        assertEquals(3, c.inChannels());
        assertEquals(3, c.outChannels());
        assertEquals(4, c.latentChannels());
        assertArrayEquals(new int[] {32, 64}, c.blockOutChannels());
        assertEquals(2, c.layersPerBlock());
        assertEquals(32, c.normGroups());
        assertEquals(0.18215, c.scalingFactor(), 0.0);
        assertArrayEquals(new int[] {32}, c.sampleSize());
        assertTrue(c.forceUpcast());
        assertTrue(c.useQuantConv(), "use_quant_conv defaults to true");
        assertTrue(c.usePostQuantConv(), "use_post_quant_conv defaults to true");
        assertTrue(c.midBlockAddAttention(), "mid_block_add_attention defaults to true");
        assertEquals(2, c.vaeScaleFactor());
        assertEquals(c, VaeConfig.read(SharedFixtures.tinySd15().resolve("model/vae/config.json")));
    }

    @Test
    void scaleFactorFollowsTheBlockCount() throws IOException {
        VaeConfig c = VaeConfig.read(edited(o -> {
            o.add("block_out_channels", array(128, 256, 512, 512));
            o.add("down_block_types", strings("DownEncoderBlock2D", 4));
            o.add("up_block_types", strings("UpDecoderBlock2D", 4));
            o.add("sample_size", array(768, 512));
            o.addProperty("scaling_factor", 0.13025);
            o.addProperty("force_upcast", false);
            o.addProperty("use_post_quant_conv", false);
            o.addProperty("mid_block_add_attention", false);
            o.add("shift_factor", null);
            o.add("latents_mean", null);
        }));
        assertEquals(8, c.vaeScaleFactor());
        assertArrayEquals(new int[] {768, 512}, c.sampleSize());
        assertEquals(0.13025, c.scalingFactor(), 0.0);
        assertFalse(c.forceUpcast());
        assertFalse(c.usePostQuantConv());
        assertTrue(c.useQuantConv());
        assertFalse(c.midBlockAddAttention());
    }

    @Test
    void refusesAShiftFactor() throws IOException {
        refused("shift_factor", "supported: null", o -> o.addProperty("shift_factor", 0.1159));
    }

    @Test
    void refusesLatentStatistics() throws IOException {
        refused("latents_mean", "supported: null", o -> o.add("latents_mean", array(0, 0, 0, 0)));
        refused("latents_std", "supported: null", o -> o.add("latents_std", array(1, 1, 1, 1)));
    }

    @Test
    void refusesOtherBlockTypes() throws IOException {
        refused("down_block_types", "DownEncoderBlock2D", o -> {
            JsonArray a = new JsonArray();
            a.add("DownEncoderBlock2D");
            a.add("AttnDownEncoderBlock2D");
            o.add("down_block_types", a);
        });
        refused("up_block_types", "has 1 entries", o -> o.add("up_block_types", strings("UpDecoderBlock2D", 1)));
    }

    @Test
    void refusesOtherActivationsAndScaling() throws IOException {
        refused("act_fn", "silu", o -> o.addProperty("act_fn", "gelu"));
        refused("act_fn", "not supported", o -> o.addProperty("act_fn", "mish"));
        refused("scaling_factor", "> 0", o -> o.addProperty("scaling_factor", 0));
        refused("_class_name", "AutoencoderKL", o -> o.addProperty("_class_name", "AutoencoderTiny"));
        refused("block_out_channels", "norm_num_groups", o -> o.addProperty("norm_num_groups", 24));
    }

    private void refused(String field, String says, Consumer<JsonObject> edit) throws IOException {
        Path file = edited(edit);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> VaeConfig.read(file));
        assertEquals(field, e.field().orElse(null), e.getMessage());
        assertTrue(e.getMessage().contains(says), e.getMessage());
        assertEquals(file, e.file());
    }

    private Path edited(Consumer<JsonObject> edit) throws IOException {
        JsonObject o = JsonParser.parseString(Files.readString(SharedFixtures.tinySd15()
                .resolve("model/vae/config.json"))).getAsJsonObject();
        edit.accept(o);
        Path dir = Files.createTempDirectory(temp, "vae");
        Path file = dir.resolve("config.json");
        Files.writeString(file, o.toString());
        return file;
    }

    private static JsonArray array(int... values) {
        JsonArray a = new JsonArray();
        for (int v : values) {
            a.add(v);
        }
        return a;
    }

    private static JsonArray strings(String value, int count) {
        JsonArray a = new JsonArray();
        for (int i = 0; i < count; i++) {
            a.add(value);
        }
        return a;
    }
}
