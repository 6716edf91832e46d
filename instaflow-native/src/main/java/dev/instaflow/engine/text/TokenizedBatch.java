package dev.instaflow.engine.text;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.Generation.PromptTokens;

import java.util.List;

/**
 * Token ids for a batch of texts, framed for the text encoder: each row is
 * {@code [bos] + tokens[:maxLength-2] + [eos]} right-padded with the pad id to {@code maxLength}.
 *
 * @param ids       row-major {@code [texts.size(), maxLength]}
 * @param maxLength ids per row
 * @param prompts   per text: how many tokens it had and how many were kept
 */
@EntryPoint("token ids of a batch: the CLI's tokenize, training's captions")
public record TokenizedBatch(long[] ids, int maxLength, List<PromptTokens> prompts) {
    public int size() {
        return prompts.size();
    }

    /** The ids of row {@code i}. */
    public long[] row(int i) {
        return java.util.Arrays.copyOfRange(ids, i * maxLength, (i + 1) * maxLength);
    }
}
