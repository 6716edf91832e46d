package dev.instaflow.samples.cli;

import com.google.gson.GsonBuilder;
import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.ModelInfo;
import dev.instaflow.Sampler;
import dev.instaflow.Progress.Stage;
import dev.instaflow.engine.runtime.CudaMemory;
import org.bytedeco.javacpp.Pointer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code instaflow bench}: latency per stage (p50/p90/p99 over warm runs) and throughput per batch size, for one or
 * more samplers. Configurations run interleaved (run 1 of each, then run 2 of each, ...) so that a machine whose
 * speed drifts affects them alike and their ratios stay meaningful.
 */
@Command(name = "bench", sortOptions = false,
        header = "Measures per-stage latency and throughput of a model.",
        description = {"Every configuration (sampler x batch size) is warmed up, then all are run in turn --runs times."
                + " Reports p50/p90/p99 per stage, the time outside the three networks (tokenize + noise + image"
                + " conversion + glue), images per second, network evaluations and peak memory."})
final class BenchCommand implements Callable<Integer> {
    /** The stage keys of {@link Generation.Timings#toMillis()}: every stage in order, then {@code total}. */
    private static final String TOTAL = "total";
    private static final List<String> STAGES = Stream.concat(Arrays.stream(Stage.values()).map(Stage::key),
            Stream.of(TOTAL)).toList();

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    DeviceOptions deviceOptions;

    @Option(names = "--batch", paramLabel = "N", split = ",",
            description = "Batch sizes (images per call); repeat or comma-separate. Default: 1,4,8,16 up to the"
                    + " model's limit.")
    List<Integer> batches;

    @Option(names = "--sampler", paramLabel = "euler|heun|flowturbo:H1P5R3", split = ",",
            converter = Converters.SamplerConverter.class,
            description = "Samplers to compare; repeat or comma-separate. Default: the model's.")
    List<Sampler> samplers;

    @Option(names = "--steps", paramLabel = "N", description = "Steps for euler and heun. Default: the model's.")
    Integer steps;

    @Option(names = "--guidance", paramLabel = "X", description = "Guidance scale. Default: the model's.")
    Double guidance;

    @Option(names = "--width", paramLabel = "N", description = "Image width. Default: the model's.")
    Integer width;

    @Option(names = "--height", paramLabel = "N", description = "Image height. Default: the model's.")
    Integer height;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "a photo of a cat",
            description = "Prompt. Default: ${DEFAULT-VALUE}.")
    String prompt;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "3",
            description = "Untimed runs per configuration first. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "20",
            description = "Timed runs per configuration. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--cudnn-benchmark",
            description = "Let cuDNN autotune its convolution algorithms (CUDA; off by default, see docs/api.md).")
    boolean cudnnBenchmark;

    @Option(names = "--json", description = "Print one JSON object with every figure on stdout.")
    boolean json;

    /** One sampler at one batch size, and what its runs measured. */
    private static final class Config {
        final Sampler sampler;
        final int batch;
        final GenerationRequest.Builder request;
        final Map<String, double[]> stageMs = new LinkedHashMap<>();
        final double[] overheadMs;
        int denoiserEvaluations;
        int refinerEvaluations;
        int steps;

        Config(Sampler sampler, int batch, GenerationRequest.Builder request, int runs) {
            this.sampler = sampler;
            this.batch = batch;
            this.request = request;
            for (String s : STAGES) {
                stageMs.put(s, new double[runs]);
            }
            this.overheadMs = new double[runs];
        }

        void record(int run, Generation g) {
            Map<String, Double> millis = g.timings().toMillis();
            for (String s : STAGES) {
                stageMs.get(s)[run] = millis.get(s);
            }
            double networks = stageMs.get(Stage.TEXT_ENCODER.key())[run] + stageMs.get(Stage.DENOISE.key())[run]
                    + stageMs.get(Stage.DECODE.key())[run];
            overheadMs[run] = stageMs.get(TOTAL)[run] - networks;
            denoiserEvaluations = g.denoiserEvaluations();
            refinerEvaluations = g.refinerEvaluations();
            steps = g.settings().steps();
        }
    }

    @Override
    public Integer call() {
        if (warmup < 0 || runs < 1) {
            throw new IllegalArgumentException("--warmup must be >= 0 and --runs >= 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long loadStart = System.nanoTime();
        Path directory = modelOptions.directory(err);
        InstaFlow.configure(deviceOptions.runtimeSettings().withCudnnBenchmark(cudnnBenchmark));
        TerminalProgress progress = TerminalProgress.start("bench", -1, json);
        try (progress; InstaFlow model = InstaFlow.load(directory,
                modelOptions.apply(deviceOptions.loadOptions()))) {
            double loadMs = (System.nanoTime() - loadStart) / 1e6;
            ModelInfo info = model.info();
            List<Config> configs = configs(info);
            progress.max((long) configs.size() * (warmup + runs));
            long peakRss = Pointer.physicalBytes();
            boolean cuda = info.device().isCuda();
            if (cuda) {
                CudaMemory.resetPeak(info.device().index());
            }
            for (Config c : configs) {
                for (int i = 0; i < warmup; i++) {
                    progress.note("warm-up " + c.sampler.id() + " batch " + c.batch);
                    model.generate(c.request.seed(i).build());
                    progress.step();
                }
            }
            for (int run = 0; run < runs; run++) {
                for (Config c : configs) {
                    progress.note("run " + (run + 1) + "/" + runs + " " + c.sampler.id() + " batch " + c.batch);
                    c.record(run, model.generate(c.request.seed(1000 + run).build()));
                    progress.step();
                    peakRss = Math.max(peakRss, Pointer.physicalBytes());
                }
            }
            Long peakGpu = cuda ? CudaMemory.peakAllocatedBytes(info.device().index()) : null;
            progress.close(); // clears the bar before the report
            if (json) {
                out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(report(info, configs,
                        loadMs, peakRss, peakGpu)));
            } else {
                printTable(out, info, configs, loadMs, peakRss, peakGpu);
            }
            out.flush();
        }
        return 0;
    }

    private List<Config> configs(ModelInfo info) {
        List<Sampler> chosen = samplers == null || samplers.isEmpty() ? List.of(info.defaults().sampler()) : samplers;
        List<Integer> sizes = batches;
        if (sizes == null || sizes.isEmpty()) {
            sizes = new ArrayList<>();
            for (int b : new int[] {1, 4, 8, 16}) {
                if (b <= info.limits().maxBatch()) {
                    sizes.add(b);
                }
            }
        }
        List<Config> configs = new ArrayList<>();
        for (Sampler s : chosen) {
            for (int b : sizes) {
                GenerationRequest.Builder r = GenerationRequest.builder().prompt(prompt).imagesPerPrompt(b).sampler(s);
                if (steps != null && s.fixedSteps().isEmpty()) {
                    r.steps(steps);
                }
                if (guidance != null) {
                    r.guidance(guidance);
                }
                if (width != null) {
                    r.width(width);
                }
                if (height != null) {
                    r.height(height);
                }
                r.build(); // checks the values now, before any timing
                configs.add(new Config(s, b, r, runs));
            }
        }
        return configs;
    }

    private Map<String, Object> report(ModelInfo info, List<Config> configs, double loadMs, long peakRss,
                                       Long peakGpu) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", info.name());
        r.put("device", info.device().toString());
        r.put("precision", info.precision().id());
        r.put("threads", deviceOptions.threads);
        r.put("cudnn_benchmark", cudnnBenchmark);
        r.put("width", width != null ? width : info.defaults().width());
        r.put("height", height != null ? height : info.defaults().height());
        r.put("guidance", guidance != null ? guidance : info.defaults().guidance());
        r.put("warmup", warmup);
        r.put("runs", runs);
        r.put("load_ms", LatencyStats.round(loadMs));
        r.put("peak_rss_mib", Math.round(peakRss / 1048576.0));
        r.put("peak_gpu_tensor_mib", peakGpu == null ? null : Math.round(peakGpu / 1048576.0));
        List<Map<String, Object>> list = new ArrayList<>();
        for (Config c : configs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("sampler", c.sampler.id());
            m.put("steps", c.steps);
            m.put("batch", c.batch);
            m.put("denoiser_evaluations", c.denoiserEvaluations);
            m.put("refiner_evaluations", c.refinerEvaluations);
            Map<String, Object> latency = new LinkedHashMap<>();
            for (String s : STAGES) {
                latency.put(s, new LatencyStats(c.stageMs.get(s)).summary());
            }
            m.put("latency_ms", latency);
            m.put("outside_networks_ms", new LatencyStats(c.overheadMs).summary());
            m.put("images_per_second", imagesPerSecond(c));
            list.add(m);
        }
        r.put("configs", list);
        return r;
    }

    private static double imagesPerSecond(Config c) {
        double medianSeconds = new LatencyStats(c.stageMs.get(TOTAL)).percentile(50) / 1000.0;
        return Math.round(c.batch / medianSeconds * 100.0) / 100.0;
    }

    private void printTable(PrintWriter out, ModelInfo info, List<Config> configs, double loadMs, long peakRss,
                            Long peakGpu) {
        out.printf(Locale.ROOT, "model %s on %s/%s, %dx%d, guidance %s; %d runs after %d warm-up; load %.0f ms; peak"
                        + " RSS %d MiB%s%n", info.name(), info.device(), info.precision(),
                width != null ? width : info.defaults().width(), height != null ? height : info.defaults().height(),
                guidance != null ? guidance : info.defaults().guidance(), runs, warmup, loadMs, peakRss >> 20,
                peakGpu == null ? "" : "; peak GPU tensors " + (peakGpu >> 20) + " MiB");
        out.printf(Locale.ROOT, "%-22s %5s %5s %8s %10s %10s %10s %12s %10s%n", "sampler", "steps", "batch",
                "nfe d/r", "total p50", "p90", "p99", "outside p50", "images/s");
        for (Config c : configs) {
            LatencyStats total = new LatencyStats(c.stageMs.get(TOTAL));
            out.printf(Locale.ROOT, "%-22s %5d %5d %8s %10.2f %10.2f %10.2f %12.3f %10.2f%n", c.sampler.id(), c.steps,
                    c.batch, c.denoiserEvaluations + "/" + c.refinerEvaluations, total.percentile(50),
                    total.percentile(90), total.percentile(99), new LatencyStats(c.overheadMs).percentile(50),
                    imagesPerSecond(c));
        }
        Config first = configs.get(0);
        out.printf(Locale.ROOT, "%nper stage, ms (%s, batch %d): %s%n", first.sampler.id(), first.batch,
                "p50 / p90 / p99");
        for (String s : STAGES) {
            LatencyStats st = new LatencyStats(first.stageMs.get(s));
            out.printf(Locale.ROOT, "  %-13s %9.3f %9.3f %9.3f%n", s, st.percentile(50), st.percentile(90),
                    st.percentile(99));
        }
    }
}
