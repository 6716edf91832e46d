package dev.instaflow.server;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.instaflow.Generation;
import dev.instaflow.GenerationCancelledException;
import dev.instaflow.GenerationService;
import dev.instaflow.InstaFlow;
import dev.instaflow.ModelInfo;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP front of a {@link GenerationService}: {@code POST /v1/images/generations} (OpenAI images API shape),
 * {@code GET /healthz}, {@code GET /metrics} (Prometheus text format) and a web page at {@code /}. See
 * {@code docs/serving.md} for the API, limits and status codes.
 *
 * <pre>{@code
 * try (Server server = new Server(model, service, Server.Options.defaults().withPort(0))) {
 *     server.start();
 *     URI base = URI.create("http://127.0.0.1:" + server.port());
 * }
 * }</pre>
 *
 * <p>{@link #close()} stops taking generations (503 with {@code Retry-After}), drains the service (the answers of
 * requests already taken are still written), then stops the HTTP server. It closes the service but not the model:
 * whoever loaded the model closes it afterwards.
 */
public final class Server implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Server.class);
    private static final String GENERATIONS = "/v1/images/generations";
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    /**
     * Server limits and binding.
     *
     * @param host                 the address to bind (default 127.0.0.1: this machine only)
     * @param port                 the port; 0 for an ephemeral one ({@link #port()} tells which)
     * @param maxBodyBytes         the largest request body (413 beyond)
     * @param maxImagesPerRequest  the largest {@code n}
     * @param maxPixelsPerRequest  the largest {@code n × width × height}
     * @param maxPromptChars       the longest prompt or negative prompt
     * @param requestTimeout       the deadline of a generation, queue wait included (504 beyond)
     * @param retryAfterSeconds    the {@code Retry-After} a 429 or 503 answer carries
     */
    public record Options(String host, int port, long maxBodyBytes, int maxImagesPerRequest, long maxPixelsPerRequest,
                          int maxPromptChars, Duration requestTimeout, int retryAfterSeconds) {
        public Options {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(requestTimeout, "requestTimeout");
            if (port < 0 || port > 65535 || maxBodyBytes < 1 || maxImagesPerRequest < 1 || maxPixelsPerRequest < 1
                    || maxPromptChars < 1 || requestTimeout.isNegative() || requestTimeout.isZero()
                    || retryAfterSeconds < 0) {
                throw new IllegalArgumentException("invalid server options: " + Options.this);
            }
        }

        /** 127.0.0.1:8080, 64 KiB bodies, n ≤ 4, 4 Mpixel per request, 2000-char prompts, 60 s, Retry-After 1. */
        public static Options defaults() {
            return new Options("127.0.0.1", 8080, 64 * 1024, 4, 4L * 1024 * 1024, 2000, Duration.ofSeconds(60), 1);
        }

        public Options withHost(String host) {
            return new Options(host, port, maxBodyBytes, maxImagesPerRequest, maxPixelsPerRequest, maxPromptChars,
                    requestTimeout, retryAfterSeconds);
        }

        public Options withPort(int port) {
            return new Options(host, port, maxBodyBytes, maxImagesPerRequest, maxPixelsPerRequest, maxPromptChars,
                    requestTimeout, retryAfterSeconds);
        }

        public Options withMaxImagesPerRequest(int n) {
            return new Options(host, port, maxBodyBytes, n, maxPixelsPerRequest, maxPromptChars, requestTimeout,
                    retryAfterSeconds);
        }

        public Options withMaxBodyBytes(long bytes) {
            return new Options(host, port, bytes, maxImagesPerRequest, maxPixelsPerRequest, maxPromptChars,
                    requestTimeout, retryAfterSeconds);
        }

        public Options withRequestTimeout(Duration timeout) {
            return new Options(host, port, maxBodyBytes, maxImagesPerRequest, maxPixelsPerRequest, maxPromptChars,
                    timeout, retryAfterSeconds);
        }
    }

    private final InstaFlow model;
    private final ModelInfo info;
    private final GenerationService service;
    private final Options options;
    private final ImagesRequestParser parser;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter responses;
    private final byte[] page;
    private volatile boolean closing;
    private final Object handlersLock = new Object();
    private int activeHandlers; // generation handlers between taking a request and writing its answer
    private Javalin app;
    private boolean closed;

    public Server(InstaFlow model, GenerationService service, Options options) {
        this.model = Objects.requireNonNull(model, "model");
        this.service = Objects.requireNonNull(service, "service");
        this.options = Objects.requireNonNull(options, "options");
        this.info = model.info();
        this.parser = new ImagesRequestParser(info, options);
        this.page = resource("index.html");
        this.responses = Counter.builder().name("instaflow_http_responses")
                .help("HTTP answers of the generation endpoint by status code").labelNames("code").register(registry);
        registerServiceMetrics();
    }

    /** Binds and starts serving; returns once the port is open. */
    public synchronized Server start() {
        if (app != null) {
            throw new IllegalStateException("the server was already started");
        }
        app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.http.maxRequestSize = options.maxBodyBytes();
            config.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(page));
            config.routes.get("/healthz", this::health);
            config.routes.get("/metrics", this::metrics);
            config.routes.post(GENERATIONS, this::generate);
            config.routes.exception(HttpResponseException.class, (e, ctx) -> {
                String message = e.getStatus() == 413 ? "the request body is larger than this server's limit of "
                        + options.maxBodyBytes() + " bytes; send a shorter prompt" : e.getMessage();
                error(ctx, e.getStatus(), e.getStatus() == 413 ? "invalid_request_error" : "http_error", null, message);
            });
            config.routes.exception(Exception.class, (e, ctx) -> {
                LOG.warn("unexpected failure answering {} {}", ctx.method(), ctx.path(), e);
                error(ctx, 500, "server_error", null, "internal error: " + e);
            });
            config.routes.error(404, ctx -> error(ctx, 404, "not_found", null, "no such endpoint: " + ctx.method()
                    + " " + ctx.path() + " (see GET /, POST /v1/images/generations, GET /healthz, GET /metrics)"));
        });
        app.start(options.host(), options.port());
        LOG.info("serving {} on http://{}:{}/", info.name(), options.host(), app.port());
        return this;
    }

    /** The bound port (the ephemeral one when the options said 0). */
    public synchronized int port() {
        if (app == null) {
            throw new IllegalStateException("the server is not started");
        }
        return app.port();
    }

    /**
     * Graceful stop: new generations get 503, queued and running ones finish (within the service's drain timeout)
     * and their answers are written, then the HTTP server stops. Idempotent; never hangs beyond the drain timeout.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closing = true;
        service.close();
        // The answers of drained requests are still being written: let their handlers finish (bounded).
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        synchronized (handlersLock) {
            while (activeHandlers > 0 && System.nanoTime() < until) {
                try {
                    handlersLock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (app != null) {
            app.stop();
        }
    }

    private void health(Context ctx) {
        JsonObject body = new JsonObject();
        boolean up = !closing && !service.isClosed() && !model.isClosed();
        body.addProperty("status", up ? "ok" : "closing");
        body.addProperty("model", info.name());
        body.addProperty("device", info.device().toString());
        GenerationService.Stats s = service.stats();
        body.addProperty("queued", s.queued());
        body.addProperty("running", s.running());
        json(ctx, up ? 200 : 503, body);
    }

    private void metrics(Context ctx) throws IOException {
        PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writer.write(out, registry.scrape());
        ctx.contentType(writer.getContentType()).result(out.toByteArray());
    }

    private void generate(Context ctx) {
        synchronized (handlersLock) {
            activeHandlers++;
        }
        try {
            answerGeneration(ctx);
        } finally {
            synchronized (handlersLock) {
                activeHandlers--;
                handlersLock.notifyAll();
            }
        }
    }

    private void answerGeneration(Context ctx) {
        long start = System.nanoTime();
        if (closing) {
            ctx.header("Retry-After", Integer.toString(options.retryAfterSeconds()));
            error(ctx, 503, "unavailable", null, "the server is shutting down; retry on another instance or later");
            return;
        }
        ImagesRequestParser.Parsed parsed;
        try {
            parsed = parser.parse(ctx.body());
        } catch (ImagesRequestParser.BadRequest e) {
            error(ctx, 400, "invalid_request_error", e.param(), e.getMessage());
            return;
        }
        CompletableFuture<Generation> future;
        try {
            future = service.submit(parsed.request(), options.requestTimeout());
        } catch (IllegalArgumentException e) {
            error(ctx, 400, "invalid_request_error", null, e.getMessage());
            return;
        } catch (RejectedExecutionException e) {
            ctx.header("Retry-After", Integer.toString(options.retryAfterSeconds()));
            if (service.isClosed()) {
                error(ctx, 503, "unavailable", null, e.getMessage());
            } else {
                error(ctx, 429, "rate_limit_exceeded", null, e.getMessage() + " (after " + options.retryAfterSeconds()
                        + " s, see Retry-After)");
            }
            return;
        } catch (IllegalStateException e) {
            ctx.header("Retry-After", Integer.toString(options.retryAfterSeconds()));
            error(ctx, 503, "unavailable", null, e.getMessage());
            return;
        }
        Generation g;
        try {
            // The service enforces the deadline; the extra second only guards against a lost completion.
            g = future.get(options.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            error(ctx, 503, "unavailable", null, "interrupted while generating (server stopping)");
            return;
        } catch (TimeoutException e) {
            future.cancel(true);
            timeout(ctx);
            return;
        } catch (CancellationException e) {
            error(ctx, 503, "unavailable", null, "the generation was cancelled");
            return;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof TimeoutException) {
                timeout(ctx);
            } else if (cause instanceof RejectedExecutionException || cause instanceof GenerationCancelledException) {
                ctx.header("Retry-After", Integer.toString(options.retryAfterSeconds()));
                error(ctx, 503, "unavailable", null, cause.getMessage());
            } else {
                LOG.warn("generation failed", cause);
                error(ctx, 500, "server_error", null, "generation failed: " + cause);
            }
            return;
        }
        json(ctx, 200, answer(g, start));
    }

    private void timeout(Context ctx) {
        error(ctx, 504, "timeout", null, "the generation did not finish within the server's request timeout of "
                + options.requestTimeout().toMillis() + " ms (queue wait included); retry later or with fewer images");
    }

    private JsonObject answer(Generation g, long start) {
        JsonObject body = new JsonObject();
        body.addProperty("created", System.currentTimeMillis() / 1000);
        List<Map<String, Object>> data = new ArrayList<>();
        // Seeds are unsigned 64-bit numbers (as the SDK prints them); sent back as given, they reproduce the image.
        java.math.BigInteger seed = g.settings().seed().isPresent()
                ? new java.math.BigInteger(Long.toUnsignedString(g.settings().seed().getAsLong())) : null;
        for (int i = 0; i < g.images().size(); i++) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("b64_json", Base64.getEncoder().encodeToString(png(g.images().get(i))));
            item.put("seed", seed);
            item.put("index", i);
            data.add(item);
        }
        body.add("data", GSON.toJsonTree(data));
        body.addProperty("seed", seed);
        body.addProperty("size", g.settings().width() + "x" + g.settings().height());
        body.addProperty("steps", g.settings().steps());
        body.addProperty("guidance", g.settings().guidance());
        body.addProperty("sampler", g.settings().sampler().id());
        Map<String, Double> timings = new LinkedHashMap<>(g.timings().toMillis());
        timings.put("request", (System.nanoTime() - start) / 1e6);
        body.add("timings", GSON.toJsonTree(timings));
        return body;
    }

    private static byte[] png(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private void error(Context ctx, int status, String type, String param, String message) {
        JsonObject err = new JsonObject();
        err.addProperty("message", message);
        err.addProperty("type", type);
        err.addProperty("param", param);
        err.addProperty("code", status);
        JsonObject body = new JsonObject();
        body.add("error", err);
        json(ctx, status, body);
    }

    private void json(Context ctx, int status, JsonObject body) {
        ctx.status(status).contentType("application/json");
        if (!GENERATIONS.equals(ctx.path()) || ctx.res().isCommitted()) {
            ctx.result(GSON.toJson(body));
            return;
        }
        responses.labelValues(Integer.toString(status)).inc();
        // Written and flushed here, not after the handler returns as ctx.result would: close() waits for the
        // generation handlers and then stops Jetty, so an answer must be on the wire when its handler ends.
        byte[] bytes = GSON.toJson(body).getBytes(StandardCharsets.UTF_8);
        try {
            ctx.res().setContentLength(bytes.length);
            ctx.res().getOutputStream().write(bytes);
            ctx.res().flushBuffer();
        } catch (IOException e) {
            LOG.debug("the client of {} went away before its answer was written", ctx.path(), e);
        }
    }

    private void registerServiceMetrics() {
        gauge("instaflow_queue_requests", "requests waiting in the generation queue", () -> service.stats().queued());
        gauge("instaflow_running_requests", "requests in running batches", () -> service.stats().running());
        gauge("instaflow_batch_max_images", "the largest batch the service runs (configured)",
                service::maxBatchImages);
        CounterWithCallback.builder().name("instaflow_requests")
                .help("generation requests by outcome").labelNames("outcome").callback(cb -> {
                    GenerationService.Stats s = service.stats();
                    cb.call(s.submitted(), "submitted");
                    cb.call(s.completed(), "completed");
                    cb.call(s.failed(), "failed");
                    cb.call(s.rejected(), "rejected");
                    cb.call(s.cancelled(), "cancelled");
                    cb.call(s.timedOut(), "timed_out");
                }).register(registry);
        counter("instaflow_batches", "batches run", () -> service.stats().batches());
        counter("instaflow_batched_images", "images in the batches run", () -> service.stats().batchedImages());
        counter("instaflow_queue_wait_seconds", "summed queue wait of completed requests",
                () -> service.stats().queueWaitTotal().toNanos() / 1e9);
        counter("instaflow_latency_seconds", "summed submit-to-completion latency of completed requests",
                () -> service.stats().latencyTotal().toNanos() / 1e9);
        GaugeWithCallback.builder().name("instaflow_recent_seconds")
                .help("latency and queue wait percentiles of the last 1024 completed requests")
                .labelNames("kind", "percentile").callback(cb -> {
                    GenerationService.Stats s = service.stats();
                    cb.call(s.latencyP50().toNanos() / 1e9, "latency", "p50");
                    cb.call(s.latencyP99().toNanos() / 1e9, "latency", "p99");
                    cb.call(s.queueWaitP50().toNanos() / 1e9, "queue_wait", "p50");
                    cb.call(s.queueWaitP99().toNanos() / 1e9, "queue_wait", "p99");
                }).register(registry);
        GaugeWithCallback.builder().name("instaflow_batch_size_batches")
                .help("batches run, by batch size in images").labelNames("images").callback(cb -> {
                    for (Map.Entry<Integer, Long> e : service.stats().batchSizes().entrySet()) {
                        cb.call(e.getValue(), Integer.toString(e.getKey()));
                    }
                }).register(registry);
    }

    private void gauge(String name, String help, java.util.function.DoubleSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble()))
                .register(registry);
    }

    private void counter(String name, String help, java.util.function.DoubleSupplier value) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble()))
                .register(registry);
    }

    private static byte[] resource(String name) {
        try (InputStream in = Server.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " missing from the instaflow-server jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
