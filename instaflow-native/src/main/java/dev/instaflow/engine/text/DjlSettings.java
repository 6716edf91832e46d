package dev.instaflow.engine.text;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settings DJL reads when its tokenizer classes are first used, applied once before {@link ClipTokenizer} touches
 * DJL. The SDK promises no network at run time; DJL, left alone, breaks that promise twice:
 *
 * <ul>
 * <li><b>Telemetry.</b> Every {@code HuggingFaceTokenizer.newInstance} calls {@code ai.djl.util.Ec2Utils.callHome},
 * which opens connections to 169.254.169.254:80 (the EC2 metadata service) and then to an S3 telemetry address,
 * unless {@code OPT_OUT_TRACKING} is true. DJL reads it with {@code Utils.getEnvOrSystemProperty}: the environment
 * variable first, then the system property. This sets the system property to {@code true} unless the environment or
 * the system properties already set {@code OPT_OUT_TRACKING}, so a process that set it itself keeps its choice.
 * <li><b>Native library download.</b> On a host with CUDA DJL picks a CUDA build of its tokenizer library and
 * downloads it; the CPU build is in the jar and is all a tokenizer needs. {@code RUST_FLAVOR=cpu} unless set.
 * </ul>
 */
final class DjlSettings {
    private static final Logger LOG = LoggerFactory.getLogger(DjlSettings.class);
    static final String OPT_OUT_TRACKING = "OPT_OUT_TRACKING";
    static final String RUST_FLAVOR = "RUST_FLAVOR";

    private static boolean applied;

    private DjlSettings() {
    }

    /** Applies the settings (idempotent); must run before any DJL class is initialised. */
    static synchronized void apply() {
        if (applied) {
            return;
        }
        applied = true;
        setUnlessGiven(OPT_OUT_TRACKING, "true");
        setUnlessGiven(RUST_FLAVOR, "cpu");
        String tracking = System.getenv(OPT_OUT_TRACKING) != null ? System.getenv(OPT_OUT_TRACKING)
                : System.getProperty(OPT_OUT_TRACKING);
        if (!Boolean.parseBoolean(tracking)) {
            LOG.debug("{}={} was set by this process: DJL's telemetry will contact the network when a tokenizer is"
                    + " built", OPT_OUT_TRACKING, tracking);
        }
    }

    private static void setUnlessGiven(String name, String value) {
        if (System.getenv(name) == null && System.getProperty(name) == null) {
            System.setProperty(name, value);
        }
    }
}
