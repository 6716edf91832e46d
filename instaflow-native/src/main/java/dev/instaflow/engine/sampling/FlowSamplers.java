package dev.instaflow.engine.sampling;

import dev.instaflow.Sampler;

/** Maps the API's {@link Sampler} value to its implementation. */
public final class FlowSamplers {
    private FlowSamplers() {
    }

    public static FlowSampler create(Sampler spec) {
        switch (spec.kind()) {
            case EULER:
                return new EulerSampler();
            case HEUN:
                return new HeunSampler();
            case FLOW_TURBO:
                return new FlowTurboSampler(spec.heunSteps(), spec.pseudoSteps(), spec.refinerSteps());
            default:
                throw new IllegalArgumentException("no implementation for sampler " + spec);
        }
    }
}
