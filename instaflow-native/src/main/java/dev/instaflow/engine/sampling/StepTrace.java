package dev.instaflow.engine.sampling;

import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;

/** Records the per-step tensors of second-order samplers under the reference dump's names. */
final class StepTrace {
    private final PipelineTrace trace;

    StepTrace(PipelineTrace trace) {
        this.trace = trace;
    }

    void grid(LinspaceGrid grid) {
        if (trace.enabled()) {
            trace.record("time_grid_s", Tensors.fromFloats(grid.points(), grid.steps() + 1));
        }
    }

    void step(int i, Tensor d0, Tensor xTilde, Tensor d1) {
        if (trace.enabled()) {
            trace.record("velocity_step" + i + "_d0", d0);
            trace.record("x_tilde_step" + i, xTilde);
            trace.record("velocity_step" + i + "_d1", d1);
        }
    }

    void carry(int i, Tensor carry) {
        if (trace.enabled()) {
            trace.record("velocity_carry_in_step" + i, carry);
        }
    }

    void refinerCall(int call, Tensor x, Tensor v, Tensor s, Tensor out) {
        if (trace.enabled()) {
            trace.record("refiner_in_x_call" + call, x);
            trace.record("refiner_in_v_call" + call, v);
            trace.record("refiner_in_s_call" + call, s);
            trace.record("refiner_out_call" + call, out);
        }
    }
}
