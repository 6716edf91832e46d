package dev.instaflow.server;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.Device;
import dev.instaflow.GenerationRequest;
import dev.instaflow.GenerationService;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.RuntimeSettings;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Load benchmark (not a test): K concurrent HTTP clients on loopback against {@code instaflow serve}'s server on the
 * tiny model on the CPU, with batching off and on in one run; every answer is checked against the image its seed
 * gives alone. Bounded by a request count and a time limit per mode. Command in docs/serving.md.
 *
 * <p>Arguments (all optional): {@code --clients K} (8), {@code --requests N} (64 per mode), {@code --seconds T} (60
 * per mode), {@code --threads N} (LibTorch threads, 1), {@code --max-batch N} (8), {@code --max-delay-ms N} (5),
 * {@code --steps N} (1), {@code --size WxH} (32x32), {@code --model DIR} (the shared tiny snapshot).
 */
public final class ServeBenchmark {
    /** The largest per-channel difference (of 255) an answer may have from its image alone; see docs/serving.md. */
    static final int TOLERANCE = GenerationServiceBatchTest.TOLERANCE;
    private static final String[] PROMPTS = {"a photo of a cat", "a red fox", "a lighthouse at dusk", ""};

    record Result(String mode, int clients, int ok, int lost, int wrong, double seconds, double imagesPerSecond,
                  double p50, double p99, double meanBatch, int largestBatch, int maxDiff) {
    }

    public static void main(String[] args) throws Exception {
        int clients = 8;
        int requests = 64;
        int seconds = 60;
        int threads = 1;
        int maxBatch = 8;
        int maxDelayMs = 5;
        int steps = 1;
        String size = "32x32";
        Path modelDir = null;
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--clients" -> clients = Integer.parseInt(v);
                case "--requests" -> requests = Integer.parseInt(v);
                case "--seconds" -> seconds = Integer.parseInt(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--max-batch" -> maxBatch = Integer.parseInt(v);
                case "--max-delay-ms" -> maxDelayMs = Integer.parseInt(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--size" -> size = v;
                case "--model" -> modelDir = Path.of(v);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (modelDir == null) {
            modelDir = TinyModel.directory();
        }
        long rssStart = rssKiB();
        InstaFlow.configure(RuntimeSettings.defaults().withThreads(threads));
        int w = Integer.parseInt(size.split("x")[0]);
        int h = Integer.parseInt(size.split("x")[1]);
        List<Result> results = new ArrayList<>();
        long rssLoaded;
        try (InstaFlow model = InstaFlow.load(modelDir, LoadOptions.builder().device(Device.cpu()).build())) {
            rssLoaded = rssKiB();
            // The image each seed gives alone: what every answer must equal.
            List<BufferedImage> expected = new ArrayList<>();
            for (int s = 0; s < requests; s++) {
                expected.add(model.generate(GenerationRequest.builder().prompt(PROMPTS[s % PROMPTS.length])
                        .seed(s).steps(steps).size(w, h).build()).image());
            }
            int[][] modes = {{1, 0}, {maxBatch, maxDelayMs}};
            for (int[] mode : modes) {
                results.add(run(model, mode[0], mode[1], clients, requests, seconds, steps, size, expected));
            }
        }
        long rssEnd = rssKiB();
        System.out.printf(Locale.ROOT, "%n%d clients, %d requests per mode (limit %d s), %s, %d step(s), %d LibTorch"
                + " thread(s), %s%n%n", clients, requests, seconds, size, steps, threads, modelDir.getFileName());
        System.out.println("| mode | images/s | p50 ms | p99 ms | mean batch | largest batch | ok | lost | wrong | max diff |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.2f | %d | %d | %d | %d | %d |%n", r.mode(),
                    r.imagesPerSecond(), r.p50(), r.p99(), r.meanBatch(), r.largestBatch(), r.ok(), r.lost(),
                    r.wrong(), r.maxDiff());
        }
        System.out.printf(Locale.ROOT, "%nVmRSS: %d MiB at start, %d MiB with the model loaded, %d MiB at the end%n",
                rssStart / 1024, rssLoaded / 1024, rssEnd / 1024);
        boolean bad = results.stream().anyMatch(r -> r.lost() > 0 || r.wrong() > 0);
        System.exit(bad ? 1 : 0);
    }

    static Result run(InstaFlow model, int maxBatch, int maxDelayMs, int clients, int requests, int seconds,
                      int steps, String size, List<BufferedImage> expected) throws Exception {
        String mode = maxBatch == 1 ? "batching off" : "batching on (max " + maxBatch + ", " + maxDelayMs + " ms)";
        GenerationService service = GenerationService.builder(model).maxBatchImages(maxBatch)
                .maxQueueDelay(Duration.ofMillis(maxDelayMs)).queueCapacity(Math.max(64, clients * 2)).build();
        try (Server server = new Server(model, service, Server.Options.defaults().withPort(0)).start()) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/images/generations");
            AtomicInteger next = new AtomicInteger();
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger lost = new AtomicInteger();
            AtomicInteger wrong = new AtomicInteger();
            AtomicInteger maxDiff = new AtomicInteger();
            List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
            long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            long start = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                Thread t = new Thread(() -> {
                    int s;
                    while ((s = next.getAndIncrement()) < requests && System.nanoTime() < deadline) {
                        String body = "{\"prompt\":\"" + PROMPTS[s % PROMPTS.length] + "\",\"seed\":" + s
                                + ",\"steps\":" + steps + ",\"size\":\"" + size + "\"}";
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri)
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            latencies.add((System.nanoTime() - t0) / 1e6);
                            if (r.statusCode() != 200) {
                                lost.incrementAndGet();
                                System.err.println("request " + s + ": " + r.statusCode() + " " + r.body());
                                continue;
                            }
                            JsonObject answer = JsonParser.parseString(r.body()).getAsJsonObject();
                            String b64 = answer.getAsJsonArray("data").get(0).getAsJsonObject().get("b64_json")
                                    .getAsString();
                            BufferedImage got = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(b64)));
                            int d = TinyModel.maxDifference(expected.get(s), got);
                            maxDiff.accumulateAndGet(d, Math::max);
                            if (answer.get("seed").getAsLong() != s || d > TOLERANCE) {
                                wrong.incrementAndGet();
                                System.err.println("request " + s + ": differs from its image alone by " + d);
                            } else {
                                ok.incrementAndGet();
                            }
                        } catch (IOException | InterruptedException | RuntimeException e) {
                            lost.incrementAndGet();
                            System.err.println("request " + s + ": " + e);
                        }
                    }
                }, "bench-client-" + c);
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            int sent = Math.min(next.get(), requests);
            lost.addAndGet(Math.max(0, sent - ok.get() - lost.get() - wrong.get()));
            GenerationService.Stats stats = service.stats();
            List<Double> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            return new Result(mode, clients, ok.get(), lost.get(), wrong.get(), elapsed, ok.get() / elapsed,
                    percentile(sorted, 0.5), percentile(sorted, 0.99), stats.meanBatchImages(), stats.largestBatch(), maxDiff.get());
        }
    }

    static double percentile(List<Double> sorted, double q) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
    }

    /** Resident memory of this process in KiB (VmRSS of /proc/self/status); -1 where there is none. */
    static long rssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
