package dev.instaflow.train.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** {@code train all}: every stage and the evaluation. */
@Command(name = "all", mixinStandardHelpOptions = true,
        description = "Run every stage (rf1, pairs, rf2, pairs of rf2, distill rf2, distill rf1) and the evaluation;"
                + " resumes where a previous run stopped.")
final class AllCommand implements Callable<Integer> {
    @Mixin
    RecipeOptions options;

    @Mixin
    EvaluationOptions evaluation;

    @Override
    public Integer call() throws Exception {
        EvaluateCommand evaluate = new EvaluateCommand();
        evaluate.options = options;
        evaluate.evaluation = evaluation;
        return evaluate.call();
    }
}
