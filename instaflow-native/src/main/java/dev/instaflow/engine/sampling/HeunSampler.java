package dev.instaflow.engine.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * Heun's second-order method on {@link LinspaceGrid}: per step, {@code d0 = V(x_i, s_i)},
 * {@code x~ = x_i + delta d0}, {@code d1 = V(x~, s_{i+1})}, {@code x_{i+1} = x_i + delta/2 (d0 + d1)}. Two network
 * evaluations per step, including one at s = 1 (denoiser timestep 0) in the last step. Equal to FlowTurbo H_N.
 */
public final class HeunSampler implements FlowSampler {
    @Override
    public Result sample(Tensor noise, SamplingContext context) {
        LinspaceGrid grid = new LinspaceGrid(context.steps(), context.timeScale(), context.strength());
        SecondOrderUpdate update = new SecondOrderUpdate(grid);
        StepTrace trace = new StepTrace(context.trace());
        trace.grid(grid);
        Tensor x = noise;
        for (int i = 0; i < grid.steps(); i++) {
            Tensor d0 = context.field().velocity(x, grid.timestep(i));
            Tensor xTilde = update.predict(x, d0);
            Tensor d1 = context.field().velocity(xTilde, grid.timestep(i + 1));
            x = update.correct(x, d0, d1);
            x = context.constraint().afterStep(x, grid.noiseLevel(i + 1));
            trace.step(i, d0, xTilde, d1);
            context.listener().afterStep(i, grid.steps(), x);
        }
        return new Result(x, 0);
    }
}
