package dev.instaflow.train.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** {@code train rf1}: stage (a). */
@Command(name = "rf1", mixinStandardHelpOptions = true,
        description = "(a) Train the 1-rectified flow on the dataset; writes <work>/rf1/bundle.")
final class Rf1Command implements Callable<Integer> {
    @Mixin
    RecipeOptions options;

    @Override
    public Integer call() {
        System.out.println("1-RF bundle: " + options.recipe(System.err).rf1());
        return 0;
    }
}
