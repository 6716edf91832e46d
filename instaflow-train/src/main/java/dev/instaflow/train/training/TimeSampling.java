package dev.instaflow.train.training;

/** Where on the path from noise (s = 0) to image (s = 1) each training example is taken. */
public enum TimeSampling {
    /** s ~ U(0, 1): rectified flow as InstaFlow trains it. */
    UNIFORM,
    /**
     * s = sigmoid(n), n ~ N(0, 1): more examples in the middle of the path, where the shape is decided, fewer at
     * the nearly-noise and nearly-clean ends (Esser et al. 2024, "Scaling Rectified Flow Transformers").
     */
    LOGIT_NORMAL,
    /**
     * s = 0 only (denoiser timestep 1000): one-step distillation. The loss {@code |v(X0, 1000) - (X1 - X0)|^2} is
     * exactly {@code |X0 + v(X0, 1000) - X1|^2}, the L2 distance between the student's one Euler step and the
     * teacher's ODE end point.
     */
    START
}
