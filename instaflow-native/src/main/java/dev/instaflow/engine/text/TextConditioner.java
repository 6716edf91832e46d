package dev.instaflow.engine.text;

import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;

/**
 * Prompts to the denoiser's text condition. All texts of a call (the prompts and, when guided, the negative prompt)
 * go through one text-encoder call; each prompt's embedding is then repeated for its images (diffusers' order: a
 * prompt's images are consecutive), and with guidance the batch becomes {@code [negative x B; positive]}.
 */
public final class TextConditioner {
    private final ClipTokenizer tokenizer;
    private final TextEncoder encoder;

    public TextConditioner(ClipTokenizer tokenizer, TextEncoder encoder) {
        this.tokenizer = tokenizer;
        this.encoder = encoder;
    }

    /**
     * Tokenizes the prompts, then (when guided) the negative prompts as the last rows.
     *
     * @param negatives the negative prompts, one per group of prompts; empty without guidance
     */
    public TokenizedBatch tokenize(List<String> prompts, List<String> negatives) {
        List<String> texts = new ArrayList<>(prompts);
        texts.addAll(negatives);
        return tokenizer.encode(texts);
    }

    /**
     * Encodes a batch from {@link #tokenize}: one text-encoder call for all rows, then each prompt row repeated for
     * its images and, when guided, each negative row for the images of its group, as {@code [negatives; positives]}.
     * Rows are copied, never recomputed, so a prompt's condition is the same whatever else is in the batch (up to the
     * text encoder's own batch-size dependence).
     *
     * @param imagesPerPrompt for each prompt row, how many images it conditions (consecutive in the batch)
     * @param imagesPerNegative for each negative row (after the prompt rows), how many images it conditions; their sum
     *                          equals that of {@code imagesPerPrompt}; empty without guidance
     */
    public Conditioning encode(TokenizedBatch tokens, int[] imagesPerPrompt, int[] imagesPerNegative, boolean guided,
                               double guidance, PipelineTrace trace) {
        int prompts = imagesPerPrompt.length;
        Tensor embeddings = encoder.encode(tokens);
        Tensor positive = embeddings.narrow(0, 0, prompts);
        if (trace.enabled()) {
            trace.record("input_ids_prompt", Tensors.fromLongs(java.util.Arrays.copyOf(tokens.ids(),
                    prompts * tokens.maxLength()), prompts, tokens.maxLength()));
            trace.record("prompt_embeds", positive);
        }
        int batch = java.util.Arrays.stream(imagesPerPrompt).sum();
        Tensor positiveBatch = repeatRows(embeddings, 0, imagesPerPrompt, batch);
        if (!guided) {
            return new Conditioning(positiveBatch, batch, false, guidance);
        }
        if (trace.enabled()) {
            trace.record("input_ids_negative", Tensors.fromLongs(tokens.row(prompts), 1, tokens.maxLength()));
            trace.record("negative_prompt_embeds", embeddings.narrow(0, prompts, 1));
        }
        Tensor negativeBatch = repeatRows(embeddings, prompts, imagesPerNegative, batch);
        return new Conditioning(torch.cat(new TensorVector(negativeBatch, positiveBatch)), batch, true, guidance);
    }

    /** Rows {@code first, first + 1, ...} of {@code rows}, row i repeated {@code counts[i]} times, in order. */
    private static Tensor repeatRows(Tensor rows, int first, int[] counts, int total) {
        if (counts.length == 1) {
            // One row for the whole batch (one prompt, or one negative prompt): a broadcast view, no copy.
            return rows.narrow(0, first, 1).expand(new long[] {total, -1, -1}).contiguous();
        }
        long[] index = new long[total];
        int b = 0;
        for (int i = 0; i < counts.length; i++) {
            for (int k = 0; k < counts[i]; k++) {
                index[b++] = first + i;
            }
        }
        if (b != total) {
            throw new IllegalArgumentException("row counts add up to " + b + ", expected " + total);
        }
        return rows.index_select(0, Tensors.fromLongs(index, total).to(rows.device(), torch.ScalarType.Long));
    }
}
