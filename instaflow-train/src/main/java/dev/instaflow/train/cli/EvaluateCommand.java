package dev.instaflow.train.cli;

import dev.instaflow.train.recipe.RecipeEvaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code train evaluate}: the measurements of docs/reflow.md. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Measure 1-RF and 2-RF at 1, 2, 4, 25 Euler steps and both one-step distillations (training"
                + " what is missing first); writes <work>/eval/table.md, results.json and samples.png.")
final class EvaluateCommand implements Callable<Integer> {
    @Mixin
    RecipeOptions options;

    @Mixin
    EvaluationOptions evaluation;

    @Override
    public Integer call() throws Exception {
        Path dir = RecipeEvaluation.run(options.recipe(System.err), evaluation.setup(), System.out::println);
        System.out.println();
        System.out.print(Files.readString(dir.resolve("table.md")));
        return 0;
    }
}
