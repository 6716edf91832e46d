package dev.instaflow.engine.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds {@code ../shared} (fixtures and reference runs) through one setting: the system property
 * {@code instaflow.shared.dir} (Maven sets it to {@code ../shared} beside the checkout), else the environment
 * variable {@code INSTAFLOW_SHARED_DIR}, else {@code ../shared}. When it is absent, tests fail under {@code CI=true}
 * and are skipped with a message elsewhere.
 */
public final class SharedFixtures {
    private SharedFixtures() {
    }

    public static Path root() {
        String configured = System.getProperty("instaflow.shared.dir");
        if (configured == null || configured.isBlank()) {
            configured = System.getenv("INSTAFLOW_SHARED_DIR");
        }
        Path root = Path.of(configured == null || configured.isBlank() ? "../shared" : configured)
                .toAbsolutePath().normalize();
        if (!Files.isDirectory(root.resolve("fixtures"))) {
            String message = "shared fixtures not found at " + root + " (set -Dinstaflow.shared.dir or"
                    + " INSTAFLOW_SHARED_DIR)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(message + "; CI must have them");
            }
            Assumptions.abort(message);
        }
        return root;
    }

    public static Path tinySd15() {
        return root().resolve("fixtures/tiny-sd15");
    }

    public static Path tinySd21() {
        return root().resolve("fixtures/tiny-sd21");
    }

    /** A reference case of tiny-sd21 ({@code rf_n2_cfg1.5}, {@code swiftbrush_eps_n1}). */
    public static Path tinySd21Case(String name) {
        return tinySd21().resolve("ref").resolve(name);
    }

    public static Path clip() {
        return root().resolve("fixtures/clip");
    }

    public static Path referenceCase(String name) {
        return tinySd15().resolve("ref").resolve(name);
    }
}
