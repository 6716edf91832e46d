package dev.instaflow.engine.text;

import dev.instaflow.engine.EntryPoint;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.InvalidModelException;
import dev.instaflow.Generation.PromptTokens;
import dev.instaflow.engine.bundle.BundleFiles;
import dev.instaflow.engine.bundle.BundleManifest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * CLIP's byte-level BPE tokenizer, loaded from a model's own {@code tokenizer/} folder, run by the Rust
 * {@code tokenizers} library through DJL, fully offline.
 *
 * <p>Stable Diffusion snapshots ship {@code vocab.json} + {@code merges.txt} (+ {@code special_tokens_map.json},
 * {@code tokenizer_config.json}) and no {@code tokenizer.json}. From those files this class builds, in memory, the
 * same {@code tokenizer.json} that transformers' {@code CLIPConverter} builds: NFC, whitespace runs to one space,
 * lower-case; CLIP's split regex; byte-level mapping; BPE with {@code </w>} word ends. A {@code tokenizer.json},
 * when present, is used as it is. Either way the ids of the text come without markers and this class frames them
 * with the manifest's ids: {@code [bos] + tokens[:maxLength-2] + [eos] + [pad...]}.
 *
 * <p>Thread-safe: encoding is read-only on the native tokenizer.
 */
@EntryPoint("the SDK's tokenizer: the CLI's tokenize, training's captions")
public final class ClipTokenizer implements AutoCloseable {
    /** CLIP's pre-tokenizer pattern (transformers' {@code CLIPConverter}). */
    static final String CLIP_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

    static {
        // No network: no telemetry, no download of a CUDA tokenizer library. Before any DJL class initialises.
        DjlSettings.apply();
    }

    private final HuggingFaceTokenizer tokenizer;
    private final BundleManifest.Text framing;
    private final Path folder;
    private final long largestId;
    private final int vocabularySize;
    private volatile boolean closed;

    private ClipTokenizer(HuggingFaceTokenizer tokenizer, BundleManifest.Text framing, Path folder, long largestId,
                          int vocabularySize) {
        this.tokenizer = tokenizer;
        this.framing = framing;
        this.folder = folder;
        this.largestId = largestId;
        this.vocabularySize = vocabularySize;
    }

    /** The number of tokens of the vocabulary (special tokens included); ids are unique, so at most largestId + 1. */
    public int vocabularySize() {
        return vocabularySize;
    }

    /** The largest id of the vocabulary (special tokens included): no id this tokenizer gives is larger. */
    public long largestId() {
        return largestId;
    }

    /** The folder the tokenizer was loaded from. */
    public Path folder() {
        return folder;
    }

    /**
     * Loads the tokenizer in {@code folder}: {@code tokenizer.json} if present, otherwise {@code vocab.json} and
     * {@code merges.txt}. Checks that the framing ids exist in the vocabulary and agree with the folder's own
     * special-token files.
     *
     * @throws InvalidModelException naming the file at fault
     */
    public static ClipTokenizer load(Path folder, BundleManifest.Text framing) {
        Path tokenizerJson = folder.resolve("tokenizer.json");
        String json;
        if (BundleFiles.present(tokenizerJson)) {
            json = BundleFiles.readText(folder, tokenizerJson, null, BundleFiles.MAX_TOKENIZER_JSON_BYTES);
        } else {
            Path vocabFile = folder.resolve("vocab.json");
            Path mergesFile = folder.resolve("merges.txt");
            for (Path required : new Path[] {vocabFile, mergesFile}) {
                if (!BundleFiles.present(required)) {
                    throw new InvalidModelException(required, null, "is missing: a tokenizer folder needs vocab.json"
                            + " and merges.txt (as in a diffusers snapshot), or a tokenizer.json");
                }
            }
            json = null;
        }
        JsonObject vocab = ClipTokenizerFiles.vocabulary(folder);
        long largestId = checkFraming(folder, vocab, framing);
        if (json == null) {
            Path mergesFile = folder.resolve(ClipTokenizerFiles.MERGES);
            List<String> merges = ClipTokenizerFiles.merges(mergesFile);
            SpecialTokens special = SpecialTokens.read(folder);
            BpeConsistency.check(folder.resolve(ClipTokenizerFiles.VOCAB), mergesFile, vocab, merges, special.all());
            json = clipTokenizerJson(vocab, merges, special, folder.resolve(ClipTokenizerFiles.VOCAB));
        }
        try {
            HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
            return new ClipTokenizer(tok, framing, folder, largestId, vocab.size());
        } catch (IOException | RuntimeException e) {
            throw new InvalidModelException(folder, null, "the tokenizer could not be built: " + e.getMessage(), e);
        }
    }

    /** Tokenizes and frames each text. */
    public TokenizedBatch encode(List<String> texts) {
        if (closed) {
            throw new IllegalStateException("tokenizer of " + folder + " is closed");
        }
        int length = framing.maxLength();
        int window = length - 2;
        long[] ids = new long[texts.size() * length];
        java.util.Arrays.fill(ids, framing.padId());
        List<PromptTokens> prompts = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            Encoding encoding = tokenizer.encode(texts.get(i), false, false);
            long[] tokens = encoding.getIds();
            int kept = Math.min(tokens.length, window);
            int row = i * length;
            ids[row] = framing.bosId();
            System.arraycopy(tokens, 0, ids, row + 1, kept);
            ids[row + 1 + kept] = framing.eosId();
            prompts.add(new PromptTokens(texts.get(i), tokens.length, kept));
        }
        return new TokenizedBatch(ids, length, prompts);
    }

    /** The text pieces of {@code text} (for diagnostics). */
    public List<String> pieces(String text) {
        return List.of(tokenizer.encode(text, false, false).getTokens());
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            tokenizer.close();
        }
    }

    /** Checks the manifest's framing ids against the vocabulary; returns the vocabulary's largest id. */
    private static long checkFraming(Path folder, JsonObject vocab, BundleManifest.Text framing) {
        long largestId = vocab.entrySet().stream().mapToLong(e -> e.getValue().getAsLong()).max().orElse(-1);
        for (long id : new long[] {framing.bosId(), framing.eosId(), framing.padId()}) {
            if (id > largestId) {
                throw new InvalidModelException(folder, "text", "framing id " + id + " (bos/eos/pad) is outside the"
                        + " vocabulary, whose largest id is " + largestId);
            }
        }
        SpecialTokens special = SpecialTokens.read(folder);
        // The markers frame every prompt; a wrong id silently changes every image.
        checkMarker(folder, vocab, "text.bos_id", "begin", special.bos().orElse(TokenizerFraming.CLIP_BOS),
                framing.bosId());
        checkMarker(folder, vocab, "text.eos_id", "end", special.eos().orElse(TokenizerFraming.CLIP_EOS),
                framing.eosId());
        special.pad().ifPresent(pad -> {
            JsonElement padId = vocab.get(pad);
            if (padId != null && padId.getAsLong() != framing.padId()) {
                throw new InvalidModelException(special.padSource(), "pad_token",
                        "the tokenizer pads with \"" + pad + "\" (id " + padId.getAsLong() + ") but the manifest's"
                                + " text.pad_id is " + framing.padId() + "; a wrong pad id silently changes images"
                                + " (SD 1.5 pads with " + TokenizerFraming.CLIP_EOS_ID + ", SD 2.x with 0)");
            }
        });
        return largestId;
    }

    private static void checkMarker(Path folder, JsonObject vocab, String field, String which, String token,
                                    long manifestId) {
        JsonElement id = vocab.get(token);
        if (id == null) {
            throw new InvalidModelException(folder, field, "the vocabulary has no " + which + " marker \"" + token
                    + "\" (declared by the folder's special-token files, or CLIP's default)");
        }
        if (id.getAsLong() != manifestId) {
            throw new InvalidModelException(folder, field, "the manifest's " + field + " is " + manifestId + " but"
                    + " the tokenizer's " + which + " marker \"" + token + "\" has id " + id.getAsLong()
                    + "; a wrong marker id silently changes every image (CLIP: bos " + TokenizerFraming.CLIP_BOS_ID
                    + ", eos " + TokenizerFraming.CLIP_EOS_ID + ")");
        }
    }

    /** The tokenizer.json transformers' CLIPConverter would write for these files. */
    static String clipTokenizerJson(JsonObject vocab, List<String> merges, SpecialTokens special, Path vocabFile) {
        String bos = special.bos().orElse(TokenizerFraming.CLIP_BOS);
        String eos = special.eos().orElse(TokenizerFraming.CLIP_EOS);
        String unk = special.unk().orElse(eos);
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", JsonNull.INSTANCE);
        root.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        for (String token : new java.util.LinkedHashSet<>(List.of(bos, eos, unk))) {
            JsonElement id = vocab.get(token);
            if (id == null) {
                throw new InvalidModelException(vocabFile, null, "has no entry for the special token \"" + token
                        + "\"");
            }
            JsonObject t = new JsonObject();
            t.addProperty("id", id.getAsLong());
            t.addProperty("content", token);
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", true);
            t.addProperty("special", true);
            added.add(t);
        }
        root.add("added_tokens", added);
        root.add("normalizer", JsonParser.parseString("{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},"
                + "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"},{\"type\":\"Lowercase\"}]}"));
        JsonObject split = new JsonObject();
        split.addProperty("type", "Split");
        JsonObject pattern = new JsonObject();
        pattern.addProperty("Regex", CLIP_SPLIT);
        split.add("pattern", pattern);
        split.addProperty("behavior", "Removed");
        split.addProperty("invert", true);
        JsonObject byteLevel = new JsonObject();
        byteLevel.addProperty("type", "ByteLevel");
        byteLevel.addProperty("add_prefix_space", false);
        byteLevel.addProperty("trim_offsets", true);
        byteLevel.addProperty("use_regex", true);
        JsonArray pre = new JsonArray();
        pre.add(split);
        pre.add(byteLevel);
        JsonObject preTokenizer = new JsonObject();
        preTokenizer.addProperty("type", "Sequence");
        preTokenizer.add("pretokenizers", pre);
        root.add("pre_tokenizer", preTokenizer);
        root.add("post_processor", JsonNull.INSTANCE);
        JsonObject decoder = byteLevel.deepCopy();
        decoder.addProperty("add_prefix_space", true);
        root.add("decoder", decoder);
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.addProperty("unk_token", unk);
        model.addProperty("continuing_subword_prefix", "");
        model.addProperty("end_of_word_suffix", "</w>");
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.add("vocab", vocab);
        JsonArray mergeArray = new JsonArray();
        merges.forEach(mergeArray::add);
        model.add("merges", mergeArray);
        root.add("model", model);
        return root.toString();
    }
}
