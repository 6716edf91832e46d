package dev.instaflow.tooling.selftest;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.nio.file.Path;

/**
 * Runs a bundle's stored self-test through the public API (the caller's noise, the stored settings) and compares
 * the image with the exporter's reference image: the check that a bundle, on this machine and device, still makes
 * the image its source pipeline made.
 */
public final class SelfTest {
    private SelfTest() {
    }

    public static SelfTestReport run(Path bundle, LoadOptions options) {
        SelfTestSpec spec = SelfTestSpec.read(bundle);
        try (InstaFlow model = InstaFlow.load(bundle, options)) {
            GenerationRequest request = GenerationRequest.builder()
                    .prompt(spec.prompt())
                    .negativePrompt(spec.negativePrompt())
                    .sampler(spec.sampler())
                    .steps(spec.steps())
                    .guidance(spec.guidance())
                    .size(spec.width(), spec.height())
                    .noise(spec.noise())
                    .build();
            Generation g = model.generate(request);
            String device = model.info().device() + "/" + model.info().precision();
            return compare(spec, g.image(), g.timings().total().toNanos() / 1e6, device);
        }
    }

    static SelfTestReport compare(SelfTestSpec spec, BufferedImage image, double millis, String device) {
        byte[] bgr = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        byte[] rgb = spec.expectedRgb();
        int max = 0;
        double sum = 0;
        double squared = 0;
        for (int p = 0; p < bgr.length; p += 3) {
            for (int c = 0; c < 3; c++) {
                int d = Math.abs((rgb[p + c] & 0xff) - (bgr[p + 2 - c] & 0xff));
                max = Math.max(max, d);
                sum += d;
                squared += (double) d * d;
            }
        }
        double mse = squared / bgr.length;
        double psnr = mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
        boolean passed = max <= spec.maxAbsUint8() && psnr >= spec.minPsnr();
        return new SelfTestReport(passed, max, sum / bgr.length, psnr, spec.maxAbsUint8(), spec.minPsnr(), millis,
                device, spec.reference());
    }
}
