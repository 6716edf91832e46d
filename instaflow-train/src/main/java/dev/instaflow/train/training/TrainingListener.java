package dev.instaflow.train.training;

/** Told about a stage's progress (the CLI draws a progress bar; tests record losses). */
public interface TrainingListener {
    TrainingListener NONE = (stage, step, total, loss, seconds) -> { };

    /**
     * After each optimizer step.
     *
     * @param step    steps done (1-based)
     * @param loss    this step's loss
     * @param seconds wall time the stage has trained so far, including earlier sessions when resumed
     */
    void onStep(String stage, long step, long total, double loss, double seconds);
}
