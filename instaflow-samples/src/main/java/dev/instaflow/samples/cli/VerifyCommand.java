package dev.instaflow.samples.cli;

import dev.instaflow.engine.selftest.SelfTest;
import dev.instaflow.engine.selftest.SelfTestReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code instaflow verify}: runs a bundle's stored self-test; exit 0 on PASS, 1 on FAIL. */
@Command(name = "verify", sortOptions = false,
        header = "Runs a bundle's stored self-test; exit 0 on PASS, 1 on FAIL.",
        description = {"Runs the bundle's stored self-test (selftest/selftest.json): its prompt, settings and exact"
                + " noise through this SDK on this device, compared with the exporter's reference image."})
final class VerifyCommand implements Callable<Integer> {
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
        SelfTestReport report = SelfTest.run(bundle, deviceOptions.loadOptions());
        stdout.println(report);
        stdout.println("reference: " + report.reference());
        stdout.println(String.format(Locale.ROOT, "generated in %.1f ms on %s", report.millis(), report.device()));
        stdout.flush();
        return report.passed() ? 0 : InstaFlowCli.FAILURE;
    }
}
