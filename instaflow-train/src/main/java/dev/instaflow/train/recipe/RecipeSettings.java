package dev.instaflow.train.recipe;

import com.google.gson.JsonObject;
import dev.instaflow.train.model.ModelConfig;
import dev.instaflow.train.training.TimeSampling;

/**
 * Every knob of the recipe, with the defaults the documented run uses ({@code docs/reflow.md}).
 *
 * @param model           network sizes
 * @param seed            seed of every random draw (weights, data, noise, times)
 * @param batchSize       training batch
 * @param dropCaption     probability of training on the empty prompt instead of the caption (1-RF and 2-RF)
 * @param rf1Steps        1-RF optimizer steps
 * @param rf1LearningRate 1-RF peak learning rate
 * @param pairCount       reflow pairs drawn from 1-RF (and distillation pairs drawn from 2-RF)
 * @param pairSteps       Euler steps of the ODE solves that make pairs
 * @param rf1Guidance     guidance of 1-RF when it makes pairs and when it is evaluated
 * @param rf2Steps        2-RF optimizer steps (it starts from 1-RF's weights)
 * @param rf2LearningRate 2-RF peak learning rate
 * @param rf2Guidance     guidance of 2-RF when it makes distillation pairs and when it is evaluated
 * @param distillSteps    optimizer steps of each one-step distillation (it starts from the teacher's weights)
 * @param distillLearningRate distillation peak learning rate
 * @param emaDecay        EMA decay of exported weights
 * @param flowTime        where 1-RF and 2-RF take their training examples on the path (distillation: s = 0)
 */
public record RecipeSettings(ModelConfig model, long seed, int batchSize, double dropCaption, int rf1Steps,
                             double rf1LearningRate, int pairCount, int pairSteps, double rf1Guidance, int rf2Steps,
                             double rf2LearningRate, double rf2Guidance, int distillSteps,
                             double distillLearningRate, double emaDecay, TimeSampling flowTime) {

    public static RecipeSettings defaults() {
        return new RecipeSettings(ModelConfig.standard(), 1, 64, 0.1, 3000, 2e-3, 8000, 25, 2.0, 3000, 1e-3, 1.0,
                1500, 1e-3, 0.998, TimeSampling.LOGIT_NORMAL);
    }

    /** A few steps of everything on tiny networks: the smoke test's recipe. */
    public static RecipeSettings smoke() {
        return new RecipeSettings(ModelConfig.tiny(), 1, 16, 0.1, 40, 2e-3, 64, 4, 2.0, 20, 1e-3, 1.0, 20, 1e-3,
                0.9, TimeSampling.LOGIT_NORMAL);
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.add("model", model.toJson());
        o.addProperty("seed", seed);
        o.addProperty("batch_size", batchSize);
        o.addProperty("drop_caption", dropCaption);
        o.addProperty("rf1_steps", rf1Steps);
        o.addProperty("rf1_learning_rate", rf1LearningRate);
        o.addProperty("pair_count", pairCount);
        o.addProperty("pair_steps", pairSteps);
        o.addProperty("rf1_guidance", rf1Guidance);
        o.addProperty("rf2_steps", rf2Steps);
        o.addProperty("rf2_learning_rate", rf2LearningRate);
        o.addProperty("rf2_guidance", rf2Guidance);
        o.addProperty("distill_steps", distillSteps);
        o.addProperty("distill_learning_rate", distillLearningRate);
        o.addProperty("ema_decay", emaDecay);
        o.addProperty("flow_time", flowTime.name().toLowerCase(java.util.Locale.ROOT));
        return o;
    }
}
