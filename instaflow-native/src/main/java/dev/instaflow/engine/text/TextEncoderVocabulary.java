package dev.instaflow.engine.text;

import dev.instaflow.InferenceException;
import dev.instaflow.InvalidModelException;
import dev.instaflow.Generation.PromptTokens;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.network.TextEncoderNetwork;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;

/**
 * Checks at load that the tokenizer and the manifest fit the text encoder, before any id reaches it: a tokenizer
 * made for another text encoder (another vocabulary size), ids beyond the embedding table, or a {@code
 * text.max_length} other than the encoder's position table would otherwise load and generate different images, or
 * index outside a table in native code. What it compares, when the network can tell
 * ({@link TextEncoderNetwork#tokenRows()}, {@link TextEncoderNetwork#positionRows()}: a Java-built CLIP from its
 * config, a TorchScript part from its tables' names):
 *
 * <ul>
 * <li>the token embedding {@code [V, D]}: the tokenizer must have exactly the ids 0..V-1 (V tokens, the largest id
 * V-1). Compared in Java, so no id beyond the table is ever fed to the encoder, and a subset of the vocabulary
 * (another tokenizer's) is refused as well;
 * <li>the position embedding {@code [L, D]}: L must be {@code text.max_length}.
 * </ul>
 *
 * A text encoder that cannot tell its table is probed instead, on the CPU only, with a prompt row holding the
 * tokenizer's largest id: LibTorch's CPU kernels refuse an index out of range with an exception, while on CUDA it is
 * a device-side assert that ruins the process's CUDA context, so the probe is never run there.
 */
public final class TextEncoderVocabulary {
    private TextEncoderVocabulary() {
    }

    /**
     * @param probeOnCpu whether the encoder may be probed with the largest id (only on the CPU)
     * @throws InvalidModelException naming the file and field that disagree
     */
    public static void check(ClipTokenizer tokenizer, TextEncoder encoder, BundleManifest.Text text,
                             Path manifestFile, boolean probeOnCpu) {
        TextEncoderNetwork network = encoder.network();
        OptionalLong tokens = network.tokenRows();
        if (tokens.isPresent()) {
            long rows = tokens.getAsLong();
            // Ids are unique (checked when the vocabulary was read), so both equal means exactly ids 0..rows-1.
            if (rows != tokenizer.largestId() + 1 || rows != tokenizer.vocabularySize()) {
                throw new InvalidModelException(tokenizer.folder(), "parts.tokenizer", "the tokenizer has "
                        + tokenizer.vocabularySize() + " tokens with ids up to " + tokenizer.largestId() + " but the"
                        + " text encoder's token embedding table (" + network.source().getFileName() + ") has "
                        + rows + " rows, one per token: the tokenizer belongs to another text encoder");
            }
        }
        network.positionRows().ifPresent(rows -> {
            if (rows != text.maxLength()) {
                throw new InvalidModelException(manifestFile, "text.max_length", "expected " + rows + ", the length"
                        + " of the text encoder's position table (" + network.source().getFileName() + "), got "
                        + text.maxLength());
            }
        });
        if (tokens.isEmpty() && probeOnCpu) {
            probe(tokenizer, encoder, text);
        }
    }

    private static void probe(ClipTokenizer tokenizer, TextEncoder encoder, BundleManifest.Text text) {
        long[] ids = new long[text.maxLength()];
        Arrays.fill(ids, text.padId());
        ids[0] = text.bosId();
        ids[1] = tokenizer.largestId();
        ids[2] = text.eosId();
        try {
            encoder.encode(new TokenizedBatch(ids, text.maxLength(), List.of(new PromptTokens("", 1, 1))));
        } catch (InferenceException e) {
            throw new InvalidModelException(encoder.network().source(), encoder.network().field(), "fails on id "
                    + tokenizer.largestId() + ", the largest the tokenizer gives (" + e.getMessage() + "): the"
                    + " tokenizer belongs to another text encoder", e);
        }
    }
}
