package dev.instaflow;

/**
 * Told about the progress of one generation, on the generating thread, after the text is encoded, after each
 * sampler step and after decoding. Returning {@code false} cancels the generation: it then throws
 * {@link GenerationCancelledException} and frees everything it allocated. Keep it quick: it runs between
 * network evaluations. On a GPU the host queues work ahead of the device, so a step is reported when it is queued
 * (the device finishes it later), and a cancellation takes effect once the work already queued has run.
 */
@FunctionalInterface
public interface ProgressListener {
    /** A listener that never cancels. */
    ProgressListener NONE = progress -> true;

    /** @return {@code true} to go on, {@code false} to cancel */
    boolean onProgress(Progress progress);
}
