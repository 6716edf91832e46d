package dev.instaflow.train.training;

import com.google.gson.JsonObject;

/**
 * How one stage trains.
 *
 * @param stage           the stage's name (for logs and checkpoints)
 * @param steps           optimizer steps
 * @param learningRate    Adam's peak learning rate
 * @param warmupSteps     linear warm-up from 0; afterwards a cosine decay to 10% of the peak at the last step
 * @param emaDecay        decay of the exponential moving average of the weights (the exported weights)
 * @param time            where on the path examples are taken
 * @param gradientClip    global gradient-norm clip
 * @param checkpointEvery steps between checkpoints (and loss-log lines are written every {@code logEvery})
 * @param logEvery        steps per loss-log line
 * @param seed            seed of the per-step time draws
 */
public record TrainingSpec(String stage, int steps, double learningRate, int warmupSteps, double emaDecay,
                           TimeSampling time, double gradientClip, int checkpointEvery, int logEvery, long seed) {
    public TrainingSpec {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
        }
        if (emaDecay < 0 || emaDecay >= 1) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + emaDecay);
        }
    }

    /** The learning rate at {@code step} (0-based). */
    public double learningRateAt(long step) {
        if (step < warmupSteps) {
            return learningRate * (step + 1) / warmupSteps;
        }
        double progress = steps <= warmupSteps ? 1 : (double) (step - warmupSteps) / (steps - warmupSteps);
        return learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
    }

    /** The EMA decay at {@code step}: ramps up early so the average does not remember the random start. */
    public double emaDecayAt(long step) {
        return Math.min(emaDecay, (1.0 + step) / (10.0 + step));
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("stage", stage);
        o.addProperty("steps", steps);
        o.addProperty("learning_rate", learningRate);
        o.addProperty("warmup_steps", warmupSteps);
        o.addProperty("ema_decay", emaDecay);
        o.addProperty("time", time.name().toLowerCase(java.util.Locale.ROOT));
        o.addProperty("gradient_clip", gradientClip);
        o.addProperty("seed", seed);
        return o;
    }
}
