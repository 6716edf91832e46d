package dev.instaflow.engine.sampling;

import dev.instaflow.Sampler;

/** Maps the API's {@link Sampler} value to its implementation. */
public final class FlowSamplers {
    private FlowSamplers() {
    }

    public static FlowSampler create(Sampler spec) {
        if (spec instanceof Sampler.FlowTurbo t) {
            return new FlowTurboSampler(t.heunSteps(), t.pseudoSteps(), t.refinerSteps());
        }
        return spec instanceof Sampler.Heun ? new HeunSampler() : new EulerSampler(); // the interface is sealed
    }
}
