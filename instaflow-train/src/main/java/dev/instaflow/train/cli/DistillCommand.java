package dev.instaflow.train.cli;

import dev.instaflow.train.recipe.Recipe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code train distill}: stages (d) and (d'). */
@Command(name = "distill", mixinStandardHelpOptions = true,
        description = "(d) Distill a teacher's guided ODE into one step (L2 loss), from the teacher's weights; writes"
                + " <work>/distill-<teacher>/bundle. --teacher rf1 is the comparison (d').")
final class DistillCommand implements Callable<Integer> {
    @Mixin
    RecipeOptions options;

    @Option(names = "--teacher", defaultValue = "rf2", description = "rf2 (InstaFlow) or rf1 (the comparison)."
            + " Default: ${DEFAULT-VALUE}.")
    String teacher;

    @Override
    public Integer call() {
        System.out.println("one-step bundle: " + options.recipe(System.err).distill(Recipe.Teacher.parse(teacher)));
        return 0;
    }
}
