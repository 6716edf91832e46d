package dev.instaflow.samples.cli;

import dev.instaflow.Progress;
import dev.instaflow.Progress.Stage;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.function.Consumer;

/**
 * The progress bar of the long commands ({@code generate}, {@code bench}, {@code bundle}), drawn on stderr with
 * {@code me.tongfei:progressbar} and cleared when done, so that only the command's own output stays. Shown only on
 * an interactive terminal and never with {@code --json}: anywhere else (a pipe, a file, a test) it is
 * {@link #off()}, which does nothing, so the streams carry exactly what they carried without it.
 */
final class TerminalProgress implements AutoCloseable {
    private static final TerminalProgress OFF = new TerminalProgress(null);

    private ProgressBar bar;

    private TerminalProgress(ProgressBar bar) {
        this.bar = bar;
    }

    /** A progress display that shows nothing. */
    static TerminalProgress off() {
        return OFF;
    }

    /**
     * A bar on stderr when {@link #wanted(boolean)}, else {@link #off()}.
     *
     * @param max the units of work, or -1 when unknown (an indefinite bar)
     */
    static TerminalProgress start(String task, long max, boolean json) {
        if (!wanted(json)) {
            return OFF;
        }
        return new TerminalProgress(builder(task, max).setConsumer(new LineConsumer(System.err, -1)).build());
    }

    /** A bar drawn into {@code out}, {@code width} characters wide (tests, or a caller's own stream). */
    static TerminalProgress to(PrintStream out, int width, String task, long max) {
        return new TerminalProgress(builder(task, max).setConsumer(new LineConsumer(out, width)).build());
    }

    /**
     * The library's carriage-return console line (as wide as the terminal when {@code width} is -1), without the
     * line break it adds on close: the bar is cleared, and the command's output starts where the bar was.
     */
    private static final class LineConsumer extends ConsoleProgressBarConsumer {
        private final PrintStream stream;

        LineConsumer(PrintStream stream, int width) {
            super(stream, width);
            this.stream = stream;
        }

        @Override
        public void close() {
            stream.flush();
        }
    }

    private static ProgressBarBuilder builder(String task, long max) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(200).clearDisplayOnFinish();
    }

    /**
     * Whether to draw: not with {@code --json} (a script reads the streams), and only when the JVM has an
     * interactive console ({@code System.console()}; on Java 22 and later, where a console exists also for
     * redirected streams, only when {@code Console.isTerminal()}).
     */
    static boolean wanted(boolean json) {
        return !json && isTerminal(System.console());
    }

    static boolean isTerminal(Console console) {
        if (console == null) {
            return false;
        }
        try {
            Method isTerminal = Console.class.getMethod("isTerminal"); // Java 22+
            return (Boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException e) {
            return true; // before Java 22 a console exists only on a terminal
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    boolean shown() {
        return bar != null;
    }

    /** Sets the units of work once known. */
    TerminalProgress max(long max) {
        if (bar != null) {
            bar.maxHint(max);
        }
        return this;
    }

    /** Moves to {@code done} units, with a short note of what is happening. */
    void at(long done, String note) {
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(note);
        }
    }

    /** One more unit done. */
    void step() {
        if (bar != null) {
            bar.step();
        }
    }

    /** A note beside the bar. */
    void note(String note) {
        if (bar != null) {
            bar.setExtraMessage(note);
        }
    }

    /**
     * A listener for one generation: units are the text encoder, each sampler step and the decoder
     * ({@code steps + 2}, set at the first report).
     */
    Consumer<Progress> generation() {
        return this::report;
    }

    private void report(Progress p) {
        if (bar == null) {
            return;
        }
        bar.maxHint(p.totalSteps() + 2L);
        long done = p.stage() == Stage.DENOISE ? 1L + p.step() : p.stage() == Stage.DECODE ? p.totalSteps() + 2L : 1L;
        at(done, p.toString());
    }

    /** Draws the end and clears the bar. Idempotent. */
    @Override
    public void close() {
        if (bar != null) {
            bar.close(); // not idempotent itself: a second close draws the bar again
            bar = null;
        }
    }
}
