package dev.instaflow.engine.nn.clip;

import dev.instaflow.engine.nn.Embedding;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code CLIPTextEmbeddings}: {@code token_embedding[ids] + position_embedding[0..L-1]}. Ids are checked by the
 * caller ({@link ClipTextModel#encode}) before they reach the native lookup.
 */
final class ClipEmbeddings {
    private final Embedding token;
    private final Embedding position;

    private ClipEmbeddings(Embedding token, Embedding position) {
        this.token = token;
        this.position = position;
    }

    /** From the view {@code text_model.embeddings}; its {@code position_ids} buffer is recomputed, so ignored. */
    static ClipEmbeddings load(Weights w, ClipTextConfig config) {
        Embedding token = Embedding.load(w.at("token_embedding"), config.vocabSize(), config.hiddenSize());
        Embedding position = Embedding.load(w.at("position_embedding"), config.maxPositions(), config.hiddenSize());
        w.ignore("position_ids");
        return new ClipEmbeddings(token, position);
    }

    /** @param ids int64 {@code [B, L]}, in range, {@code L ≤ max_position_embeddings}; @return {@code [B, L, D]} */
    Tensor forward(Tensor ids) {
        long length = ids.size(1);
        // Rows 0..L-1 of the table, broadcast over the batch: the same sums as position_embedding(arange(L)[None]).
        return token.forward(ids).add(position.weight().narrow(0, 0, length));
    }
}
