package dev.instaflow.engine.sampling;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * FlowTurbo ({@code shiml20/FlowTurbo models_assemble.py}) on {@link LinspaceGrid}: H Heun steps, then P
 * pseudo-corrector steps, then R refiner steps, always in that order, passing a carried velocity between steps.
 * <ul>
 *   <li>H: {@code d0 = V(x_i)}, {@code x~ = x_i + delta d0}, {@code d1 = V(x~)}, {@code x_{i+1} = x_i + delta/2 (d0 +
 *       d1)}; carry d1 (two evaluations).</li>
 *   <li>P: as H but {@code d0 = carry} (one evaluation); carry d1.</li>
 *   <li>R: {@code v = carry}; {@code d0 = v + R(x_i, v, s_i)}, {@code x~ = x_i + delta d0},
 *       {@code d1 = d0 + R(x~, v, s_{i+1})}, {@code x_{i+1} = x_i + delta/2 (d0 + d1)}; carry d0 (no denoiser
 *       evaluation, two refiner evaluations).</li>
 * </ul>
 * The refiner runs on the un-doubled batch with the already guided velocity (this project's convention; the SiT
 * release applies CFG to the refiner's output instead, see {@code docs/samplers.md}).
 */
public final class FlowTurboSampler implements FlowSampler {
    private final int heunSteps;
    private final int pseudoSteps;
    private final int refinerSteps;

    public FlowTurboSampler(int heunSteps, int pseudoSteps, int refinerSteps) {
        if (heunSteps < 1) {
            throw new IllegalArgumentException("a FlowTurbo schedule must start with a Heun step, got H" + heunSteps);
        }
        this.heunSteps = heunSteps;
        this.pseudoSteps = pseudoSteps;
        this.refinerSteps = refinerSteps;
    }

    @Override
    public Result sample(Tensor noise, SamplingContext context) {
        int n = heunSteps + pseudoSteps + refinerSteps;
        if (context.steps() != n) {
            throw new IllegalArgumentException("FlowTurbo H" + heunSteps + "P" + pseudoSteps + "R" + refinerSteps
                    + " has " + n + " steps, the context asks for " + context.steps());
        }
        LinspaceGrid grid = new LinspaceGrid(n, context.timeScale(), context.strength());
        SecondOrderUpdate update = new SecondOrderUpdate(grid);
        StepTrace trace = new StepTrace(context.trace());
        trace.grid(grid);
        VelocityField field = context.field();
        Tensor x = noise;
        Tensor carry = null;
        int i = 0;
        for (int h = 0; h < heunSteps; h++, i++) {
            Tensor d0 = field.velocity(x, grid.timestep(i));
            Tensor xTilde = update.predict(x, d0);
            Tensor d1 = field.velocity(xTilde, grid.timestep(i + 1));
            x = update.correct(x, d0, d1);
            x = context.constraint().afterStep(x, grid.noiseLevel(i + 1));
            carry = d1;
            trace.step(i, d0, xTilde, d1);
            context.listener().afterStep(i, n, x);
        }
        for (int p = 0; p < pseudoSteps; p++, i++) {
            Tensor d0 = carry;
            Tensor xTilde = update.predict(x, d0);
            Tensor d1 = field.velocity(xTilde, grid.timestep(i + 1));
            x = update.correct(x, d0, d1);
            x = context.constraint().afterStep(x, grid.noiseLevel(i + 1));
            carry = d1;
            trace.step(i, d0, xTilde, d1);
            context.listener().afterStep(i, n, x);
        }
        int refinerCalls = 0;
        if (refinerSteps > 0) {
            VelocityRefiner refiner = context.refiner().orElseThrow(() -> new IllegalStateException(
                    "FlowTurbo refiner steps need the bundle's refiner part"));
            for (int r = 0; r < refinerSteps; r++, i++) {
                Tensor v = carry;
                trace.carry(i, v);
                Tensor sNow = times(x, grid.time(i), context);
                Tensor correction0 = refiner.refine(x, v, sNow);
                trace.refinerCall(refinerCalls++, x, v, sNow, correction0);
                Tensor d0 = v.add(correction0);
                Tensor xTilde = update.predict(x, d0);
                Tensor sNext = times(x, grid.time(i + 1), context);
                Tensor correction1 = refiner.refine(xTilde, v, sNext);
                trace.refinerCall(refinerCalls++, xTilde, v, sNext, correction1);
                Tensor d1 = d0.add(correction1);
                x = update.correct(x, d0, d1);
                x = context.constraint().afterStep(x, grid.noiseLevel(i + 1));
                carry = d0;
                trace.step(i, d0, xTilde, d1);
                context.listener().afterStep(i, n, x);
            }
        }
        return new Result(x, refinerCalls);
    }

    /** A float32 {@code [B]} tensor of paper time s for the refiner. */
    private static Tensor times(Tensor x, float s, SamplingContext context) {
        return torch.full(new long[] {x.size(0)}, new Scalar((double) s), context.device().options(ScalarType.Float));
    }
}
