package dev.instaflow.engine.text;

import dev.instaflow.InferenceException;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.Shapes;
import dev.instaflow.engine.network.TextEncoderNetwork;
import dev.instaflow.engine.runtime.TorchScriptPart;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * The text encoder stage: framed token ids {@code int64 [B,L]} to prompt embeddings {@code [B,L,D]} in the model's
 * dtype, through whichever {@link TextEncoderNetwork} the model has (a bundle's TorchScript part or a snapshot's Java
 * CLIP), with the output checked against the manifest.
 */
public final class TextEncoder implements AutoCloseable {
    public static final String SIGNATURE = "(input_ids: int64 [B,L]) -> [B,L,D] (last_hidden_state)";

    private final TextEncoderNetwork part;
    private final BundleManifest.Text spec;
    private final DeviceContext context;

    public TextEncoder(TextEncoderNetwork part, BundleManifest.Text spec, DeviceContext context) {
        this.part = part;
        this.spec = spec;
        this.context = context;
    }

    public static TextEncoder load(Bundle bundle, DeviceContext context) {
        TorchScriptPart part = TorchScriptPart.load("text encoder", bundle.textEncoder(), "parts.text_encoder", 1,
                SIGNATURE, context);
        return new TextEncoder(part, bundle.manifest().text(), context);
    }

    /** Embeddings of the batch's rows, in the model's dtype, on the model's device. */
    public Tensor encode(TokenizedBatch batch) {
        Tensor ids = context.upload(Tensors.fromLongs(batch.ids(), batch.size(), batch.maxLength()));
        Tensor out = part.encode(ids);
        String problem = Shapes.mismatch(out, batch.size(), spec.maxLength(), spec.hiddenSize());
        if (problem != null) {
            throw new InferenceException("the text encoder part (" + part.source().getFileName() + ") returned "
                    + problem + " ([batch, text.max_length, text.hidden_size])", null);
        }
        // The denoiser takes the embeddings in the model's dtype, whatever the text encoder's output dtype.
        return context.toModelDtype(out);
    }

    /** The network behind this stage. */
    public TextEncoderNetwork network() {
        return part;
    }

    /** Runs the part once and checks its output shape against the manifest. */
    public void validate(ClipTokenizer tokenizer, BundleManifest manifest) {
        try {
            encode(tokenizer.encode(List.of("")));
        } catch (InferenceException e) {
            throw new InvalidModelException(part.source(), part.field(), "failed its load-time check: "
                    + e.getMessage() + "; expected forward" + SIGNATURE + " with L = " + spec.maxLength()
                    + " and D = text.hidden_size = " + spec.hiddenSize()
                    + manifest.loadHint(context.isCuda(), context.precision()), e);
        }
    }

    @Override
    public void close() {
        part.close();
    }
}
