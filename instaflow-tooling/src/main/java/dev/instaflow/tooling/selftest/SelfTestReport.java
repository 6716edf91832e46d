package dev.instaflow.tooling.selftest;

/**
 * What {@link SelfTest} measured.
 *
 * @param passed       whether both tolerances held
 * @param maxAbsUint8  largest per-channel difference from the expected image (0..255)
 * @param meanAbsUint8 mean per-channel difference
 * @param psnr         peak signal-to-noise ratio in dB (infinite for identical images)
 * @param maxAllowed   the self-test's allowed largest difference
 * @param minPsnr      the self-test's allowed smallest PSNR
 * @param millis       generation time
 * @param device       the device and precision the bundle ran on, e.g. {@code cuda:0/float16}
 * @param reference    where the expected image came from
 */
public record SelfTestReport(boolean passed, int maxAbsUint8, double meanAbsUint8, double psnr, int maxAllowed,
                             double minPsnr, double millis, String device, String reference) {
    @Override
    public String toString() {
        return (passed ? "PASS" : "FAIL") + ": max |diff| " + maxAbsUint8 + " (allowed " + maxAllowed + "), mean |diff| "
                + String.format(java.util.Locale.ROOT, "%.4f", meanAbsUint8) + ", PSNR "
                + (Double.isInfinite(psnr) ? "inf" : String.format(java.util.Locale.ROOT, "%.2f", psnr)) + " dB (min "
                + minPsnr + ")";
    }
}
