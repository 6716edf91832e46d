package dev.instaflow;

/**
 * A generation stopped before it finished: {@link GenerationCall#cancel()} was called (from any thread, the progress
 * listener's included), or the generating thread was interrupted (the interrupt flag is then left set). Nothing was
 * returned and no native memory was kept.
 */
public final class GenerationCancelledException extends InstaFlowException {
    private final Progress progress;

    /**
     * @param progress where the generation stood
     * @param reason   why it stopped, e.g. "the generating thread was interrupted"
     */
    public GenerationCancelledException(Progress progress, String reason) {
        super("generation " + (reason.startsWith("cancelled") ? reason : "cancelled: " + reason) + " at " + progress);
        this.progress = progress;
    }

    /** Where the generation stood when it was cancelled. */
    public Progress progress() {
        return progress;
    }
}
