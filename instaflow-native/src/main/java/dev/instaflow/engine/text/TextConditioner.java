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
     * Tokenizes the prompts, and the negative prompt (as the last row) when guided.
     *
     * @param negative the negative prompt, or null without guidance
     */
    public TokenizedBatch tokenize(List<String> prompts, String negative) {
        List<String> texts = new ArrayList<>(prompts);
        if (negative != null) {
            texts.add(negative);
        }
        return tokenizer.encode(texts);
    }

    /**
     * Encodes a batch from {@link #tokenize}.
     *
     * @param prompts         how many rows are prompts (the rest is the negative prompt)
     * @param imagesPerPrompt images per prompt
     */
    public Conditioning encode(TokenizedBatch tokens, int prompts, int imagesPerPrompt, boolean guided,
                               double guidance, PipelineTrace trace) {
        Tensor embeddings = encoder.encode(tokens);
        Tensor positive = embeddings.narrow(0, 0, prompts);
        if (trace.enabled()) {
            trace.record("input_ids_prompt", Tensors.fromLongs(java.util.Arrays.copyOf(tokens.ids(),
                    prompts * tokens.maxLength()), prompts, tokens.maxLength()));
            trace.record("prompt_embeds", positive);
        }
        int batch = prompts * imagesPerPrompt;
        Tensor positiveBatch = imagesPerPrompt == 1 ? positive : positive.repeat_interleave(imagesPerPrompt, new org.bytedeco.pytorch.LongOptional(0), new org.bytedeco.pytorch.LongOptional());
        if (!guided) {
            return new Conditioning(positiveBatch, batch, false, guidance);
        }
        Tensor negative = embeddings.narrow(0, prompts, 1);
        if (trace.enabled()) {
            trace.record("input_ids_negative", Tensors.fromLongs(tokens.row(prompts), 1, tokens.maxLength()));
            trace.record("negative_prompt_embeds", negative);
        }
        Tensor negativeBatch = negative.expand(new long[] {batch, -1, -1});
        return new Conditioning(torch.cat(new TensorVector(negativeBatch, positiveBatch)), batch, true, guidance);
    }
}
