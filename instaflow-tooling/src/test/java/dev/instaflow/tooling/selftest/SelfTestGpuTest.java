package dev.instaflow.tooling.selftest;

import dev.instaflow.Device;
import dev.instaflow.LoadOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** On a GPU (run by hand, `-Pgpu`): a full-size fp16 bundle passes its stored self-test within its measured error. */
@Tag("gpu")
class SelfTestGpuTest {
    @Test
    void fullSizeHalfPrecisionBundlePassesItsSelfTest() {
        String dir = System.getProperty("instaflow.fullsize.bundle");
        Assumptions.assumeTrue(dir != null && Files.isDirectory(Path.of(dir)),
                "set -Dinstaflow.fullsize.bundle=DIR to a full-size exported bundle");
        SelfTestReport report = SelfTest.run(Path.of(dir), LoadOptions.builder().device(Device.cuda()).build());
        System.out.println("full-size self-test on CUDA: " + report);
        assertTrue(report.passed(), report.toString());
    }
}
