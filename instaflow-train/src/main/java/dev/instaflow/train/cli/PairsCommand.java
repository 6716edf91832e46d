package dev.instaflow.train.cli;

import dev.instaflow.train.recipe.Recipe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code train pairs}: stage (b) (and the distillation pairs of 2-RF). */
@Command(name = "pairs", mixinStandardHelpOptions = true,
        description = "(b) Make pairs (X0, ODE[teacher](X0)) with the SDK's Euler sampler and guidance; writes"
                + " <work>/pairs-<teacher>/.")
final class PairsCommand implements Callable<Integer> {
    @Mixin
    RecipeOptions options;

    @Option(names = "--teacher", defaultValue = "rf1", description = "rf1 (reflow pairs) or rf2 (distillation"
            + " pairs of 2-RF). Default: ${DEFAULT-VALUE}.")
    String teacher;

    @Override
    public Integer call() {
        Recipe recipe = options.recipe(System.err);
        long n = recipe.pairs(Recipe.Teacher.parse(teacher)).size();
        System.out.println(n + " pairs in " + recipe.work().resolve("pairs-" + Recipe.Teacher.parse(teacher).folder()));
        return 0;
    }
}
