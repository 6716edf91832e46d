package dev.instaflow.engine;

import dev.instaflow.Device;
import dev.instaflow.LoadOptions;

/** Load options for tests: the CPU, and the thread count Maven passes (1 on CI's two cores). */
final class TestSettings {
    private TestSettings() {
    }

    /** The CPU; applies the test thread count process-wide first (threads are a process setting). */
    static LoadOptions loadOptions() {
        String threads = System.getProperty("instaflow.test.threads");
        if (threads != null && !threads.isBlank()) {
            dev.instaflow.InstaFlow.configure(dev.instaflow.InstaFlow.runtimeSettings()
                    .withThreads(Integer.parseInt(threads)));
        }
        return LoadOptions.builder().device(Device.cpu()).build();
    }
}
