package dev.instaflow;

/** A {@link ProgressListener} asked to stop. Nothing was returned and no native memory was kept. */
public class GenerationCancelledException extends InstaFlowException {
    private final Progress progress;

    public GenerationCancelledException(Progress progress) {
        super("generation cancelled by the progress listener at " + progress);
        this.progress = progress;
    }

    /** Where the generation stood when it was cancelled. */
    public Progress progress() {
        return progress;
    }
}
