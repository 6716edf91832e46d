package dev.instaflow.server;

import dev.instaflow.Device;
import dev.instaflow.GenerationService;
import dev.instaflow.InstaFlow;
import dev.instaflow.InstaFlowException;
import dev.instaflow.LoadOptions;
import dev.instaflow.RuntimeSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code instaflow serve}: loads a model and serves it over HTTP until SIGTERM or Ctrl-C, which stop it gracefully
 * (no new generations, the queue drained, the model closed). Also runnable alone:
 * {@code java -cp ... dev.instaflow.server.ServeCommand --model DIR}.
 */
@Command(name = "serve", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Serves a model over HTTP: POST /v1/images/generations (OpenAI images API shape), GET /healthz,"
                + " GET /metrics (Prometheus), and a web page at /. Concurrent requests are batched.",
            "Stops gracefully on SIGTERM or Ctrl-C. See docs/serving.md."})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "The model folder (a bundle or a diffusers snapshot).")
    Path model;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "The address to bind (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 for all).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080",
            description = "The port (default: ${DEFAULT-VALUE}; 0 for any free one).")
    int port;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8",
            description = "Most images per batch (default: ${DEFAULT-VALUE}; 1 turns batching off).")
    int maxBatch;

    @Option(names = "--max-delay-ms", paramLabel = "N", defaultValue = "5",
            description = "How long the oldest request waits for others to join its batch (default: ${DEFAULT-VALUE}).")
    long maxDelayMs;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "64",
            description = "Requests that may wait; beyond, 429 with Retry-After (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
            description = "Batches run at once (default: ${DEFAULT-VALUE}, one per device stream).")
    int workers;

    @Option(names = "--timeout-s", paramLabel = "N", defaultValue = "60",
            description = "Deadline of a request, queue wait included; beyond, 504 (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--max-n", paramLabel = "N", defaultValue = "4",
            description = "Most images one request may ask for (default: ${DEFAULT-VALUE}).")
    int maxN;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto",
            description = "auto, cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}: CUDA if usable, else CPU).")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "LibTorch CPU threads (default: LibTorch's).")
    Integer threads;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ServeCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (maxBatch < 1 || maxDelayMs < 0 || queue < 1 || workers < 1 || timeoutSeconds < 1 || maxN < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-batch, --queue, --workers,"
                    + " --timeout-s and --max-n must be at least 1, --max-delay-ms at least 0");
        }
        LoadOptions.Builder load = LoadOptions.builder();
        if (!device.equals("auto")) {
            try {
                load.device(Device.parse(device));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--device: " + e.getMessage());
            }
        }
        InstaFlow loaded;
        try {
            if (threads != null) {
                InstaFlow.configure(InstaFlow.runtimeSettings().withThreads(threads));
            }
            loaded = InstaFlow.load(model, load.build());
        } catch (InstaFlowException | IllegalArgumentException | IllegalStateException e) {
            err.println("instaflow serve: cannot load " + model + ": " + e.getMessage());
            err.flush();
            return 1;
        }
        GenerationService service = GenerationService.builder(loaded).maxBatchImages(maxBatch)
                .maxQueueDelay(Duration.ofMillis(maxDelayMs)).queueCapacity(queue).workers(workers)
                .drainTimeout(Duration.ofSeconds(timeoutSeconds)).build();
        Server server = new Server(loaded, service, Server.Options.defaults().withHost(host).withPort(port)
                .withMaxImagesPerRequest(maxN).withRequestTimeout(Duration.ofSeconds(timeoutSeconds)));
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            try {
                server.close();
            } finally {
                loaded.close();
                stopped.countDown();
            }
        }, "instaflow-serve-shutdown");
        try {
            server.start();
        } catch (RuntimeException e) {
            err.println("instaflow serve: cannot listen on " + host + ":" + port + ": " + e.getMessage());
            err.flush();
            server.close();
            loaded.close();
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("serving " + loaded.info().name() + " on " + loaded.info().device() + " at http://" + host + ":"
                + server.port() + "/ (max batch " + service.maxBatchImages() + ", max delay " + maxDelayMs
                + " ms); Ctrl-C or SIGTERM stops");
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
