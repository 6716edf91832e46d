package dev.instaflow.train.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** {@code train rf2}: stage (c). */
@Command(name = "rf2", mixinStandardHelpOptions = true,
        description = "(c) Train the 2-rectified flow on 1-RF's pairs, from 1-RF's weights; writes <work>/rf2/bundle.")
final class Rf2Command implements Callable<Integer> {
    @Mixin
    RecipeOptions options;

    @Override
    public Integer call() {
        System.out.println("2-RF bundle: " + options.recipe(System.err).rf2());
        return 0;
    }
}
