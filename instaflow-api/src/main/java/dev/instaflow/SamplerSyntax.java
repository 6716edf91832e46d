package dev.instaflow;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The text form of a {@link Sampler}: {@code euler}, {@code heun}, {@code flowturbo:H1P5R3}. */
final class SamplerSyntax {
    private static final Pattern FLOW_TURBO = Pattern.compile("h(\\d+)(?:p(\\d+))?(?:r(\\d+))?");

    private SamplerSyntax() {
    }

    static Sampler parse(String text) {
        String t = Objects.requireNonNull(text, "sampler").trim().toLowerCase(Locale.ROOT);
        if (t.equals("euler")) {
            return Sampler.euler();
        }
        if (t.equals("heun")) {
            return Sampler.heun();
        }
        if (t.startsWith("flowturbo:")) {
            Matcher m = FLOW_TURBO.matcher(t.substring("flowturbo:".length()));
            if (m.matches()) {
                try {
                    return Sampler.flowTurbo(count(m.group(1)), count(m.group(2)), count(m.group(3)));
                } catch (NumberFormatException e) {
                    // too many digits: fall through to the message below
                }
            }
        }
        throw new IllegalArgumentException("sampler '" + text
                + "' is not one of euler, heun, flowturbo:H<n>P<n>R<n> (e.g. flowturbo:H1P5R3)");
    }

    private static int count(String digits) {
        return digits == null ? 0 : Integer.parseInt(digits);
    }
}
