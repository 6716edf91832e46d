package dev.instaflow.spark.cli;

import dev.instaflow.spark.Sessions;
import dev.instaflow.spark.SparkPairs;
import dev.instaflow.train.cli.RecipeOptions;
import dev.instaflow.train.recipe.Recipe;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code spark-pairs}: {@code instaflow train pairs} with one Spark task per chunk; the same files. */
@Command(name = "spark-pairs", mixinStandardHelpOptions = true,
        description = "(b) of the recipe on Spark: the pair chunks of `instaflow train pairs`, the same bytes, one"
                + " task per missing chunk. The work folder must be on storage every executor sees.")
final class SparkPairsCommand implements Callable<Integer> {
    @Mixin
    RecipeOptions options;

    @Option(names = "--teacher", defaultValue = "rf1", description = "rf1 or rf2. Default: ${DEFAULT-VALUE}.")
    String teacher;

    @Option(names = "--master", description = "Spark master (default: spark-submit's, else local[*]).")
    String master;

    @Override
    public Integer call() {
        Recipe recipe = options.recipe(System.err);
        Recipe.Teacher t = Recipe.Teacher.parse(teacher);
        Path bundle = recipe.teacherBundle(t);     // trains the teacher here first if it is not done yet
        Path dir = recipe.pairsDir(t);
        SparkSession spark = Sessions.create(master, "instaflow spark-pairs");
        try {
            int made = SparkPairs.run(spark, recipe.pairGenerator(t), bundle, recipe.tokenizer(), dir,
                    options.threads());
            System.out.println(recipe.settings().pairCount() + " pairs in " + dir + " (" + made
                    + " chunks made now)");
            return 0;
        } finally {
            spark.stop();
        }
    }
}
