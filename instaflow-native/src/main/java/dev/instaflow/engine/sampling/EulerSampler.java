package dev.instaflow.engine.sampling;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * Euler steps on {@link EulerGrid}, exactly InstaFlow's {@code RectifiedFlowPipeline}: for i = 0..N-1,
 * {@code v = V(x, (1 - i/N) * 1000)}, {@code x = x + dt * v} with {@code dt = 1/N}. One network evaluation per
 * step; N = 1 is InstaFlow's one-step generation {@code x1 = x0 + v(x0, 1000)}.
 */
public final class EulerSampler implements FlowSampler {
    @Override
    public Result sample(Tensor noise, SamplingContext context) {
        EulerGrid grid = new EulerGrid(context.steps(), context.timeScale(), context.strength());
        Scalar dt = new Scalar(grid.dt());
        Tensor x = noise;
        for (int i = 0; i < grid.steps(); i++) {
            Tensor v = context.field().velocity(x, grid.timestep(i));
            if (context.trace().enabled()) {
                context.trace().record("velocity_step" + i, v);
            }
            x = x.add(v.mul(dt));
            x = context.constraint().afterStep(x, grid.noiseLevel(i + 1));
            context.listener().afterStep(i, grid.steps(), x);
        }
        return new Result(x, 0);
    }
}
