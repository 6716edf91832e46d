package dev.instaflow;

/**
 * How one prompt was tokenized.
 *
 * @param text       the prompt as given
 * @param tokenCount the number of text tokens before truncation (without the begin and end markers)
 * @param keptTokens the number of text tokens the model saw (at most the model's limit, 75 for CLIP)
 */
public record PromptTokens(String text, int tokenCount, int keptTokens) {
    /** Whether tokens were cut because the prompt was longer than the model's text window. */
    public boolean truncated() {
        return keptTokens < tokenCount;
    }
}
