package dev.instaflow.engine.runtime;

import dev.instaflow.engine.EntryPoint;
import org.bytedeco.pytorch.Tensor;

/**
 * A tap on the intermediate tensors of one generation (embeddings, noise, every network input and output, the
 * latents after each step, the decoded image), named as in the reference dumps of {@code docs/parity.md}. Parity
 * tests and debugging tools implement it; normal generations use {@link #NONE}, which costs nothing.
 *
 * <p>A trace must copy what it keeps before returning: the tensor is freed when the generation's scope closes.
 */
@EntryPoint("intermediate tensors of a generation: parity tools, training's quantisation")
public interface PipelineTrace {
    PipelineTrace NONE = new PipelineTrace() {
        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public void record(String name, Tensor value) {
        }
    };

    /** Whether {@link #record} wants tensors; callers skip work that only feeds the trace when it does not. */
    boolean enabled();

    void record(String name, Tensor value);
}
