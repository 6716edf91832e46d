package dev.instaflow.train.cli;

import dev.instaflow.train.training.TrainingListener;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on standard error: redrawn in place on a terminal, one line per 5% when the output is a file
 * (a {@code nohup} log). Shows steps, a running mean of the loss, speed and the time left.
 */
final class ConsoleProgress implements TrainingListener {
    private static final int WIDTH = 24;
    private final PrintStream out;
    private final boolean interactive;
    private String stage = "";
    private double smoothed = Double.NaN;
    private long lastDraw;
    private long firstStep;
    private double firstSeconds;
    private long lastLine = -1;

    ConsoleProgress(PrintStream out) {
        this.out = out;
        this.interactive = System.console() != null;
    }

    @Override
    public void onStep(String stageName, long step, long total, double loss, double seconds) {
        if (!stageName.equals(stage)) {
            stage = stageName;
            smoothed = Double.NaN;
            firstStep = step - 1;
            firstSeconds = seconds;
            lastLine = -1;
        }
        if (!Double.isNaN(loss)) {
            smoothed = Double.isNaN(smoothed) ? loss : 0.98 * smoothed + 0.02 * loss;
        }
        long now = System.nanoTime();
        boolean last = step >= total;
        if (interactive) {
            if (!last && now - lastDraw < 200_000_000L) {
                return;
            }
            lastDraw = now;
            out.print("\r" + line(step, total, seconds) + (last ? "\n" : ""));
        } else {
            long bucket = step * 20 / total;
            if (!last && bucket == lastLine) {
                return;
            }
            lastLine = bucket;
            out.println(line(step, total, seconds));
        }
        out.flush();
    }

    private String line(long step, long total, double seconds) {
        int filled = (int) (WIDTH * step / Math.max(1, total));
        String bar = "#".repeat(filled) + "-".repeat(WIDTH - filled);
        double span = seconds - firstSeconds;
        double rate = span > 0.5 ? (step - firstStep) / span : 0;
        double left = rate > 0 ? (total - step) / rate : 0;
        String lossText = Double.isNaN(smoothed) ? "" : String.format(Locale.ROOT, " loss %.4f", smoothed);
        return String.format(Locale.ROOT, "%-12s [%s] %d/%d%s %.1f/s elapsed %s left %s", stage, bar, step, total,
                lossText, rate, clock(seconds), clock(left));
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
