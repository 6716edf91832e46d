package dev.instaflow.samples.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectCommandTest {
    @Test
    void showsTheManifestAndEachPartsForwardSignature() {
        Cli.Result r = Cli.run("inspect", "--model", TestModels.tinyBundle().toString()).succeeded();
        String out = r.out();
        assertTrue(out.contains("\"format\": \"instaflow-bundle\""), out);
        assertTrue(out.contains("\"name\": \"tiny-sd15\""), out);
        assertTrue(out.contains("forward(input_ids: Tensor) -> Tensor"), out);
        assertTrue(out.contains("forward(sample: Tensor, timestep: Tensor, encoder_hidden_states: Tensor) -> Tensor"),
                out);
        assertTrue(out.contains("forward(z: Tensor) -> Tensor"), out);
        assertTrue(out.contains("denoiser.pt (4.5 MiB)"), out);
        assertTrue(out.contains("vocab.json"), out);
        assertTrue(out.contains("self-test: none"), out);
    }

    @Test
    void jsonHasTheManifestPartsAndArgumentNames() {
        Cli.Result r = Cli.run("inspect", "--json", "--model", TestModels.tinyBundle().toString()).succeeded();
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(32, o.getAsJsonObject("manifest").getAsJsonObject("text").get("hidden_size").getAsInt());
        JsonObject denoiser = o.getAsJsonObject("parts").getAsJsonObject("denoiser");
        assertEquals("denoiser.pt", denoiser.get("file").getAsString());
        assertTrue(denoiser.get("bytes").getAsLong() > 1_000_000);
        assertEquals(List.of("sample", "timestep", "encoder_hidden_states"), names(denoiser.getAsJsonArray("arguments")));
        assertEquals("Tensor", denoiser.get("returns").getAsString());
        assertEquals(List.of("input_ids"),
                names(o.getAsJsonObject("parts").getAsJsonObject("text_encoder").getAsJsonArray("arguments")));
        assertEquals(List.of("z"),
                names(o.getAsJsonObject("parts").getAsJsonObject("vae_decoder").getAsJsonArray("arguments")));
        assertFalse(o.getAsJsonObject("parts").has("refiner"));
        assertTrue(o.getAsJsonObject("tokenizer").getAsJsonObject("files").has("merges.txt"));
        assertFalse(o.get("selftest").getAsBoolean());
    }

    private static List<String> names(JsonArray arguments) {
        List<String> names = new ArrayList<>();
        arguments.forEach(a -> names.add(a.getAsJsonObject().get("name").getAsString()));
        return names;
    }
}
