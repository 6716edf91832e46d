package dev.instaflow.engine;

import dev.instaflow.Device;
import dev.instaflow.LoadOptions;

/** Load options for tests: the CPU, and the thread count Maven passes (1 on CI's two cores). */
final class TestSettings {
    private TestSettings() {
    }

    static LoadOptions loadOptions() {
        LoadOptions.Builder b = LoadOptions.builder().device(Device.cpu());
        String threads = System.getProperty("instaflow.test.threads");
        if (threads != null && !threads.isBlank()) {
            b.threads(Integer.parseInt(threads));
        }
        return b.build();
    }
}
