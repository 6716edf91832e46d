package dev.instaflow.train;

import dev.instaflow.train.cli.TrainCommand;
import picocli.CommandLine;

/**
 * Runs {@code train} on its own until the main {@code instaflow} CLI registers {@link TrainCommand}:
 * {@code java -cp "instaflow-train/target/instaflow-train-0.1.0-SNAPSHOT.jar:instaflow-train/target/lib/*"
 * dev.instaflow.train.TrainMain all}.
 */
public final class TrainMain {
    private TrainMain() {
    }

    public static void main(String[] args) {
        // The stand-alone runner logs through slf4j-simple; the tokenizer library's start-up notes are not news.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
        }
        CommandLine cli = new CommandLine(new TrainCommand());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
                cmd.getErr().println("error: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        System.exit(cli.execute(args));
    }
}
