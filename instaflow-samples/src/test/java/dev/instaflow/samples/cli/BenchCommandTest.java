package dev.instaflow.samples.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's report: every configuration, every stage, plausible figures. Timings are not judged here. */
class BenchCommandTest {
    @Test
    void reportsEveryStageAndConfiguration() {
        Cli.Result r = Cli.run("bench", "--model", TestModels.tinyBundle().toString(), "--device", "cpu",
                "--threads", TestModels.threads(), "--batch", "1,2", "--sampler", "euler,flowturbo:H1P1R0",
                "--steps", "2", "--guidance", "1.5", "--warmup", "1", "--runs", "3", "--json").succeeded();
        JsonObject report = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals("cpu", report.get("device").getAsString());
        JsonArray configs = report.getAsJsonArray("configs");
        assertEquals(4, configs.size(), "2 samplers x 2 batch sizes");
        JsonObject euler = configs.get(0).getAsJsonObject();
        assertEquals("euler", euler.get("sampler").getAsString());
        assertEquals(2, euler.get("denoiser_evaluations").getAsInt());
        JsonObject turbo = configs.get(2).getAsJsonObject();
        assertEquals("flowturbo:H1P1R0", turbo.get("sampler").getAsString());
        assertEquals(3, turbo.get("denoiser_evaluations").getAsInt(), "H: 2 evaluations, P: 1");
        assertEquals(2, configs.get(1).getAsJsonObject().get("batch").getAsInt());
        for (String stage : new String[] {"tokenize", "text_encoder", "noise", "denoise", "decode", "to_image",
            "total"}) {
            JsonObject s = euler.getAsJsonObject("latency_ms").getAsJsonObject(stage);
            assertTrue(s.get("p50").getAsDouble() >= 0 && s.get("p99").getAsDouble() >= s.get("p50").getAsDouble(),
                    stage + ": " + s);
        }
        double total = euler.getAsJsonObject("latency_ms").getAsJsonObject("total").get("p50").getAsDouble();
        double outside = euler.getAsJsonObject("outside_networks_ms").get("p50").getAsDouble();
        assertTrue(outside >= 0 && outside < total, "outside " + outside + " vs total " + total);
        assertTrue(euler.get("images_per_second").getAsDouble() > 0);
    }

    @Test
    void rejectsZeroRuns() {
        Cli.run("bench", "--model", TestModels.tinyBundle().toString(), "--device", "cpu", "--runs", "0")
                .failedWith(InstaFlowCli.USAGE);
    }
}
