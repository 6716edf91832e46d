package dev.instaflow.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** VmRSS / VmHWM of this process from /proc/self/status (Linux), and the peak reset through clear_refs. */
final class ProcMemory {
    private ProcMemory() {
    }

    static long kib(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    static long rssBytes() {
        return kib("VmRSS") * 1024;
    }

    static long hwmBytes() {
        return kib("VmHWM") * 1024;
    }

    /** Resets VmHWM to the current RSS (writes 5 to /proc/self/clear_refs); false where the kernel refuses. */
    static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static Map<String, Object> snapshot() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rss_bytes", rssBytes());
        m.put("hwm_bytes", hwmBytes());
        return m;
    }

    static String gib(long bytes) {
        return String.format("%.2f GiB", bytes / (double) (1L << 30));
    }
}
