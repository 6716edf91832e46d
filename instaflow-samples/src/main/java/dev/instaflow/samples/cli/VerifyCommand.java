package dev.instaflow.samples.cli;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.GenerationSettings;
import dev.instaflow.InstaFlow;
import dev.instaflow.ModelInfo;
import dev.instaflow.tooling.selftest.SelfTest;
import dev.instaflow.tooling.selftest.SelfTestReport;
import dev.instaflow.tooling.selftest.SelfTestSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code instaflow verify}: runs a bundle's stored self-test; exit 0 on PASS, 1 on FAIL. A bundle without one (the
 * built-in default model, {@code instaflow bundle} output) gets the checks that need no reference image instead.
 */
@Command(name = "verify", sortOptions = false,
        header = "Runs a bundle's stored self-test; exit 0 on PASS, 1 on FAIL.",
        description = {"Runs the bundle's stored self-test (selftest/selftest.json): its prompt, settings and exact"
                + " noise through this SDK on this device, compared with the exporter's reference image.",
            "A bundle without a stored self-test (the built-in default model, bundles made by `instaflow bundle`)"
                + " gets the checks that need no reference: it loads (each part's load-time check), the same seed"
                + " gives identical images twice, different noise gives different images, and an image is not a"
                + " single colour. These cannot show that the images are right."})
final class VerifyCommand implements Callable<Integer> {
    /** The prompt of the reference-free check. */
    static final String CHECK_PROMPT = "a photo of a cat";
    /** The seed of the reference-free check. */
    static final long CHECK_SEED = 0;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    DeviceOptions deviceOptions;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        Path bundle = modelOptions.directory(spec.commandLine().getErr());
        deviceOptions.configureRuntime();
        if (!Files.exists(bundle.resolve(SelfTestSpec.FOLDER).resolve(SelfTestSpec.FILE))
                && Files.isDirectory(bundle)) {
            return checkWithoutReference(bundle, stdout);
        }
        SelfTestReport report = SelfTest.run(bundle, deviceOptions.loadOptions());
        stdout.println(report);
        stdout.println("reference: " + report.reference());
        stdout.println(String.format(Locale.ROOT, "generated in %.1f ms on %s", report.millis(), report.device()));
        stdout.flush();
        return report.passed() ? 0 : InstaFlowCli.FAILURE;
    }

    /**
     * The checks that need no reference image: load (every part's load-time check), two generations of two images
     * each from one seed at the model's defaults, compared byte for byte; the two images of one call must differ
     * (the noise reaches the output) and the first must not be a single colour (what non-finite latents decode to).
     */
    private Integer checkWithoutReference(Path bundle, PrintWriter stdout) {
        long start = System.nanoTime();
        try (InstaFlow model = InstaFlow.load(bundle, deviceOptions.loadOptions())) {
            ModelInfo info = model.info();
            GenerationRequest request = GenerationRequest.builder().prompt(CHECK_PROMPT).seed(CHECK_SEED)
                    .imagesPerPrompt(2).build();
            Generation first = model.generate(request);
            Generation second = model.generate(request);
            GenerationSettings used = first.settings();
            String settings = used.width() + "x" + used.height() + ", " + used.sampler().id() + " "
                    + used.steps() + " step(s), guidance " + used.guidance();

            List<String> failures = new ArrayList<>();
            int maxDiff = Math.max(maxDifference(first.images().get(0), second.images().get(0)),
                    maxDifference(first.images().get(1), second.images().get(1)));
            if (maxDiff != 0) {
                failures.add("not deterministic: seed " + CHECK_SEED + " twice gave images up to " + maxDiff
                        + " apart (of 255)");
            }
            if (maxDifference(first.images().get(0), first.images().get(1)) == 0) {
                failures.add("the noise does not reach the image: two images from different noise are identical");
            }
            if (isOneColour(first.images().get(0))) {
                failures.add("the image is a single colour (non-finite latents, or a broken decoder?)");
            }
            String device = info.device() + "/" + info.precision();
            if (failures.isEmpty()) {
                stdout.println("PASS: no stored self-test; checked: loads on " + device + " (every part's load-time"
                        + " check), deterministic (seed " + CHECK_SEED + " twice: identical images), different"
                        + " noise gives different images, not a single colour");
            } else {
                stdout.println("FAIL: no stored self-test; " + String.join("; ", failures));
            }
            stdout.println("not checked: that the images are right (that needs a reference image: a self-test"
                    + " written by the exporter, docs/bundle-format.md)");
            stdout.println(String.format(Locale.ROOT, "prompt \"%s\", %s; %.1f ms in all on %s", CHECK_PROMPT,
                    settings, (System.nanoTime() - start) / 1e6, device));
            stdout.flush();
            return failures.isEmpty() ? 0 : InstaFlowCli.FAILURE;
        }
    }

    private static byte[] bytes(BufferedImage image) {
        return ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
    }

    static int maxDifference(BufferedImage a, BufferedImage b) {
        byte[] x = bytes(a);
        byte[] y = bytes(b);
        if (x.length != y.length) {
            return 255;
        }
        int max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs((x[i] & 0xff) - (y[i] & 0xff)));
        }
        return max;
    }

    static boolean isOneColour(BufferedImage image) {
        byte[] x = bytes(image);
        int channels = image.getRaster().getNumBands();
        for (int i = channels; i < x.length; i += channels) {
            if (!Arrays.equals(x, 0, channels, x, i, i + channels)) {
                return false;
            }
        }
        return true;
    }
}
