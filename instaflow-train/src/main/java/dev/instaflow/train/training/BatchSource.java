package dev.instaflow.train.training;

/**
 * Training batches, a pure function of the step number (and the source's seed), so a stage resumed from a
 * checkpoint sees exactly the batches an uninterrupted run would have seen.
 */
public interface BatchSource {
    Batch batch(long step);

    /** A well-mixed 64-bit seed for (seed, step, stream); streams keep different draws of one step independent. */
    static long mix(long seed, long step, long stream) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + stream * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
