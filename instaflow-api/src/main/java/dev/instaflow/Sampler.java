package dev.instaflow;

import java.util.OptionalInt;

/**
 * Which ODE sampler integrates the flow from noise to image: a closed set of values, so a {@code switch} over it
 * needs no default. See {@code docs/samplers.md} for the math and the cost of each.
 * <ul>
 *   <li>{@link Euler}: N first-order steps, one network evaluation each. InstaFlow's and 2-Rectified Flow's own
 *       sampler; with N = 1 it is InstaFlow's one-step generation.</li>
 *   <li>{@link Heun}: N second-order steps, two network evaluations each.</li>
 *   <li>{@link FlowTurbo}: FlowTurbo's schedule of Heun steps, then pseudo-corrector steps (one evaluation each,
 *       reusing the last velocity), then refiner steps (no denoiser evaluation; a small velocity refiner part
 *       corrects the carried velocity). Its step count is fixed by the schedule.</li>
 * </ul>
 */
public sealed interface Sampler {
    /** Euler steps; the step count comes from the request or the model's default. */
    record Euler() implements Sampler {
        @Override
        public String id() {
            return "euler";
        }

        @Override
        public String toString() {
            return id();
        }
    }

    /** Heun steps; the step count comes from the request or the model's default. */
    record Heun() implements Sampler {
        @Override
        public String id() {
            return "heun";
        }

        @Override
        public String toString() {
            return id();
        }
    }

    /**
     * FlowTurbo {@code H<heun>P<pseudo>R<refiner>}, run in that order. The schedule must start with a Heun step
     * (pseudo-corrector and refiner steps reuse the velocity a previous step carried); refiner steps need a model
     * with a refiner part.
     */
    record FlowTurbo(int heunSteps, int pseudoSteps, int refinerSteps) implements Sampler {
        public FlowTurbo {
            if (heunSteps < 0 || pseudoSteps < 0 || refinerSteps < 0) {
                throw new IllegalArgumentException("FlowTurbo step counts must be >= 0, got H" + heunSteps + "P"
                        + pseudoSteps + "R" + refinerSteps);
            }
            if (heunSteps + pseudoSteps + refinerSteps == 0) {
                throw new IllegalArgumentException("FlowTurbo schedule H0P0R0 has no steps; expected at least one");
            }
            if (heunSteps == 0) {
                throw new IllegalArgumentException("FlowTurbo schedule H0P" + pseudoSteps + "R" + refinerSteps
                        + " starts without a Heun step, so its pseudo-corrector/refiner steps have no velocity to"
                        + " carry; expected H >= 1, e.g. H1P" + pseudoSteps + "R" + refinerSteps);
            }
        }

        /** H + P + R: the schedule fixes the step count. */
        public int steps() {
            return heunSteps + pseudoSteps + refinerSteps;
        }

        @Override
        public String id() {
            return "flowturbo:H" + heunSteps + "P" + pseudoSteps + "R" + refinerSteps;
        }

        @Override
        public String toString() {
            return id();
        }
    }

    /** Euler steps. */
    static Sampler euler() {
        return new Euler();
    }

    /** Heun steps. */
    static Sampler heun() {
        return new Heun();
    }

    /** FlowTurbo H{@code heun}P{@code pseudo}R{@code refiner}; see {@link FlowTurbo}. */
    static Sampler flowTurbo(int heun, int pseudo, int refiner) {
        return new FlowTurbo(heun, pseudo, refiner);
    }

    /** Parses {@code euler}, {@code heun}, or {@code flowturbo:H1P5R3} (P and R parts may be left out). */
    static Sampler parse(String text) {
        return SamplerSyntax.parse(text);
    }

    /** The form {@link #parse(String)} reads: {@code euler}, {@code heun}, {@code flowturbo:H1P5R3}. */
    String id();

    /** The number of grid steps when the sampler fixes it (FlowTurbo: H + P + R); empty for Euler and Heun. */
    default OptionalInt fixedSteps() {
        return this instanceof FlowTurbo f ? OptionalInt.of(f.steps()) : OptionalInt.empty();
    }

    /** Whether the sampler calls the model's velocity refiner part. */
    default boolean needsRefiner() {
        return this instanceof FlowTurbo f && f.refinerSteps() > 0;
    }
}
