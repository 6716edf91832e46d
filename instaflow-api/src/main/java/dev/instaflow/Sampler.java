package dev.instaflow;

import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which ODE sampler integrates the flow from noise to image. A value; see {@code docs/samplers.md} for the math and
 * the cost of each.
 * <ul>
 *   <li>{@link #euler()}: N first-order steps, one network evaluation each. InstaFlow's and 2-Rectified Flow's own
 *       sampler; with N = 1 it is InstaFlow's one-step generation.</li>
 *   <li>{@link #heun()}: N second-order steps, two network evaluations each.</li>
 *   <li>{@link #flowTurbo(int, int, int)}: FlowTurbo's schedule of Heun steps, then pseudo-corrector steps (one
 *       evaluation each, reusing the last velocity), then refiner steps (no denoiser evaluation; a small velocity
 *       refiner part corrects the carried velocity). Its step count is fixed by the schedule.</li>
 * </ul>
 */
public final class Sampler {
    /** The sampler families. */
    public enum Kind { EULER, HEUN, FLOW_TURBO }

    private static final Sampler EULER = new Sampler(Kind.EULER, 0, 0, 0);
    private static final Sampler HEUN = new Sampler(Kind.HEUN, 0, 0, 0);
    private static final Pattern FLOW_TURBO = Pattern.compile("h(\\d+)(?:p(\\d+))?(?:r(\\d+))?");

    private final Kind kind;
    private final int heunSteps;
    private final int pseudoSteps;
    private final int refinerSteps;

    private Sampler(Kind kind, int heunSteps, int pseudoSteps, int refinerSteps) {
        this.kind = kind;
        this.heunSteps = heunSteps;
        this.pseudoSteps = pseudoSteps;
        this.refinerSteps = refinerSteps;
    }

    /** Euler steps; the step count comes from the request or the model's default. */
    public static Sampler euler() {
        return EULER;
    }

    /** Heun steps; the step count comes from the request or the model's default. */
    public static Sampler heun() {
        return HEUN;
    }

    /**
     * FlowTurbo {@code H<heun>P<pseudo>R<refiner>}, run in that order. The schedule must start with a Heun step
     * (pseudo-corrector and refiner steps reuse the velocity a previous step carried); refiner steps need a bundle
     * with a refiner part.
     */
    public static Sampler flowTurbo(int heun, int pseudo, int refiner) {
        if (heun < 0 || pseudo < 0 || refiner < 0) {
            throw new IllegalArgumentException("FlowTurbo step counts must be >= 0, got H" + heun + "P" + pseudo + "R"
                    + refiner);
        }
        if (heun + pseudo + refiner == 0) {
            throw new IllegalArgumentException("FlowTurbo schedule H0P0R0 has no steps; expected at least one");
        }
        if (heun == 0) {
            throw new IllegalArgumentException("FlowTurbo schedule H0P" + pseudo + "R" + refiner
                    + " starts without a Heun step, so its pseudo-corrector/refiner steps have no velocity to carry;"
                    + " expected H >= 1, e.g. H1P" + pseudo + "R" + refiner);
        }
        return new Sampler(Kind.FLOW_TURBO, heun, pseudo, refiner);
    }

    /** Parses {@code euler}, {@code heun}, or {@code flowturbo:H1P5R3} (P and R parts may be left out). */
    public static Sampler parse(String text) {
        String t = Objects.requireNonNull(text, "sampler").trim().toLowerCase(Locale.ROOT);
        if (t.equals("euler")) {
            return EULER;
        }
        if (t.equals("heun")) {
            return HEUN;
        }
        if (t.startsWith("flowturbo:")) {
            Matcher m = FLOW_TURBO.matcher(t.substring("flowturbo:".length()));
            if (m.matches()) {
                try {
                    return flowTurbo(count(m.group(1)), count(m.group(2)), count(m.group(3)));
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

    public Kind kind() {
        return kind;
    }

    /** The number of grid steps when the sampler fixes it (FlowTurbo: H + P + R); empty for Euler and Heun. */
    public OptionalInt fixedSteps() {
        return kind == Kind.FLOW_TURBO ? OptionalInt.of(heunSteps + pseudoSteps + refinerSteps) : OptionalInt.empty();
    }

    public int heunSteps() {
        return heunSteps;
    }

    public int pseudoSteps() {
        return pseudoSteps;
    }

    public int refinerSteps() {
        return refinerSteps;
    }

    /** Whether the sampler calls the bundle's velocity refiner part. */
    public boolean needsRefiner() {
        return refinerSteps > 0;
    }

    /** The form {@link #parse(String)} reads: {@code euler}, {@code heun}, {@code flowturbo:H1P5R3}. */
    public String id() {
        switch (kind) {
            case EULER:
                return "euler";
            case HEUN:
                return "heun";
            default:
                return "flowturbo:H" + heunSteps + "P" + pseudoSteps + "R" + refinerSteps;
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Sampler)) {
            return false;
        }
        Sampler s = (Sampler) o;
        return kind == s.kind && heunSteps == s.heunSteps && pseudoSteps == s.pseudoSteps
                && refinerSteps == s.refinerSteps;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, heunSteps, pseudoSteps, refinerSteps);
    }

    @Override
    public String toString() {
        return id();
    }
}
