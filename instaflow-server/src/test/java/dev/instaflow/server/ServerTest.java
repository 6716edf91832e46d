package dev.instaflow.server;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.GenerationService;
import dev.instaflow.InstaFlow;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP API through a real client against the tiny model on the CPU. */
@Timeout(120)
class ServerTest {
    static InstaFlow model;
    static GenerationService service;
    static Server server;
    static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() {
        model = TinyModel.load();
        service = GenerationService.builder(model).maxBatchImages(4).maxQueueDelay(Duration.ofMillis(5)).build();
        server = new Server(model, service, Server.Options.defaults().withPort(0).withMaxBodyBytes(4096)).start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (model != null) {
            model.close();
        }
    }

    static HttpResponse<String> post(Server s, String body) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/images/generations"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static JsonObject json(HttpResponse<String> r) {
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    static BufferedImage image(JsonObject answer, int i) throws Exception {
        String b64 = answer.getAsJsonArray("data").get(i).getAsJsonObject().get("b64_json").getAsString();
        return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(b64)));
    }

    @Test
    void aGenerationReturnsTheImageItsSeedGivesAloneWithSeedAndTimings() throws Exception {
        HttpResponse<String> r = post(server, "{\"prompt\":\"a photo of a cat\",\"n\":2,\"size\":\"32x32\","
                + "\"response_format\":\"b64_json\",\"seed\":18446744073709551615,\"steps\":2,\"guidance\":1.5,"
                + "\"negative_prompt\":\"blurry\",\"model\":\"ignored\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse("").split(";")[0]);
        JsonObject answer = json(r);
        assertTrue(answer.get("created").getAsLong() > 1_600_000_000L);
        assertEquals(2, answer.getAsJsonArray("data").size());
        assertEquals("18446744073709551615", answer.get("seed").getAsBigInteger().toString(), "seeds are unsigned");
        assertEquals("18446744073709551615", answer.getAsJsonArray("data").get(1).getAsJsonObject().get("seed")
                .getAsBigInteger().toString());
        assertTrue(answer.getAsJsonObject("timings").has("total"), r.body().substring(r.body().indexOf("timings")));
        Generation alone = model.generate(GenerationRequest.builder().prompt("a photo of a cat").imagesPerPrompt(2)
                .size(32, 32).seed(-1L).steps(2).guidance(1.5).negativePrompt("blurry").build());
        for (int i = 0; i < 2; i++) {
            BufferedImage got = image(answer, i);
            assertEquals(32, got.getWidth());
            assertEquals(0, TinyModel.maxDifference(alone.images().get(i), got), "image " + i);
        }
    }

    static void assertBad(String body, int status, String param, String inMessage) throws Exception {
        HttpResponse<String> r = post(server, body);
        assertEquals(status, r.statusCode(), body + " -> " + r.body());
        JsonObject error = json(r).getAsJsonObject("error");
        assertNotNull(error, r.body());
        if (param == null) {
            assertTrue(error.get("param").isJsonNull(), r.body());
        } else {
            assertEquals(param, error.get("param").getAsString(), r.body());
        }
        assertTrue(error.get("message").getAsString().contains(inMessage), r.body());
    }

    @Test
    void badRequestsAre400NamingTheField() throws Exception {
        assertBad("{\"prompt\": \"a cat\"", 400, null, "malformed JSON");
        assertBad("not json", 400, null, "malformed JSON");
        assertBad("[1, 2]", 400, null, "must be a JSON object");
        assertBad("", 400, null, "malformed JSON");
        assertBad("{}", 400, "prompt", "'prompt' is required");
        assertBad("{\"prompt\": 7}", 400, "prompt", "must be a string");
        assertBad("{\"prompt\": \"x\", \"seeds\": 1}", 400, "seeds", "unknown field 'seeds'");
        assertBad("{\"prompt\": \"x\", \"n\": 0}", 400, "n", "from 1 to 4");
        assertBad("{\"prompt\": \"x\", \"n\": 1.5}", 400, "n", "integer");
        assertBad("{\"prompt\": \"x\", \"n\": \"2\"}", 400, "n", "integer");
        assertBad("{\"prompt\": \"x\", \"size\": \"big\"}", 400, "size", "not WxH");
        assertBad("{\"prompt\": \"x\", \"size\": \"33x32\"}", 400, "size", "multiples of");
        assertBad("{\"prompt\": \"x\", \"size\": \"4096x4096\"}", 400, "size", "outside");
        assertBad("{\"prompt\": \"x\", \"response_format\": \"url\"}", 400, "response_format", "only \"b64_json\"");
        assertBad("{\"prompt\": \"x\", \"seed\": -1}", 400, "seed", "from 0 to");
        assertBad("{\"prompt\": \"x\", \"seed\": 18446744073709551616}", 400, "seed", "from 0 to");
        assertBad("{\"prompt\": \"x\", \"steps\": 0}", 400, "steps", "from 1 to");
        assertBad("{\"prompt\": \"x\", \"guidance\": -2}", 400, "guidance", "from 0 to 100");
        assertBad("{\"prompt\": \"x\", \"negative_prompt\": [\"a\"]}", 400, "negative_prompt", "must be a string");
        assertBad("{\"prompt\": \"" + "x".repeat(5000) + "\"}", 413, null, "limit of 4096 bytes");
    }

    @Test
    void overloadIs429WithRetryAfterAndNothingBreaks() throws Exception {
        try (GenerationService tiny = GenerationService.builder(model).maxBatchImages(1).queueCapacity(1).build();
             Server s = new Server(model, tiny, Server.Options.defaults().withPort(0)).start()) {
            GenerationRequest slow = GenerationRequest.builder().prompt("slow").size(32, 32).steps(200).build();
            CompletableFuture<Generation> running = tiny.submit(slow);
            while (tiny.stats().running() == 0) {
                Thread.sleep(5);
            }
            CompletableFuture<Generation> queued = tiny.submit(slow);
            HttpResponse<String> r = post(s, "{\"prompt\": \"x\", \"size\": \"32x32\"}");
            assertEquals(429, r.statusCode(), r.body());
            assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
            assertTrue(r.body().contains("queue is full"), r.body());
            queued.cancel(true);
            running.cancel(true);
        }
    }

    @Test
    void aPassedDeadlineIs504() throws Exception {
        try (GenerationService svc = GenerationService.builder(model).build();
             Server s = new Server(model, svc, Server.Options.defaults().withPort(0)
                     .withRequestTimeout(Duration.ofMillis(1))).start()) {
            HttpResponse<String> r = post(s, "{\"prompt\": \"x\", \"size\": \"32x32\", \"steps\": 50}");
            assertEquals(504, r.statusCode(), r.body());
            assertTrue(r.body().contains("request timeout of 1 ms"), r.body());
        }
    }

    @Test
    void closeAnswersTheRequestsItTookThenStops() throws Exception {
        GenerationService svc = GenerationService.builder(model).build();
        Server s = new Server(model, svc, Server.Options.defaults().withPort(0)).start();
        CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return post(s, "{\"prompt\": \"x\", \"size\": \"32x32\", \"steps\": 20}");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        while (svc.stats().submitted() == 0) {
            Thread.sleep(5);
        }
        s.close();
        HttpResponse<String> answer = inFlight.get();
        assertEquals(200, answer.statusCode(), "the request taken before close is answered: " + answer.body());
        assertTrue(svc.isClosed());
        assertTrue(!model.isClosed(), "the server does not close the model it was given");
    }

    @Test
    void healthMetricsPageAndUnknownPaths() throws Exception {
        post(server, "{\"prompt\": \"m\", \"size\": \"32x32\", \"seed\": 1}");
        HttpResponse<String> health = get("/healthz");
        assertEquals(200, health.statusCode());
        assertEquals("ok", json(health).get("status").getAsString());
        HttpResponse<String> metrics = get("/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        for (String name : new String[] {"instaflow_requests_total{outcome=\"completed\"}", "instaflow_queue_requests",
            "instaflow_batches_total", "instaflow_batched_images_total", "instaflow_latency_seconds_total",
            "instaflow_http_responses_total{code=\"200\"}", "instaflow_recent_seconds{kind=\"latency\",percentile=\"p50\"}",
            "instaflow_batch_size_batches{images=\"1\"}"}) {
            assertTrue(metrics.body().contains(name), name + " in\n" + metrics.body());
        }
        HttpResponse<String> page = get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<form id=\"form\">") && !page.body().contains("http"), "self-contained");
        HttpResponse<String> missing = get("/nope");
        assertEquals(404, missing.statusCode());
        assertTrue(missing.body().contains("no such endpoint"), missing.body());
    }
}
