package dev.instaflow.engine.text;

import com.google.gson.JsonObject;
import dev.instaflow.InvalidModelException;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks that a {@code merges.txt} belongs to its {@code vocab.json}, so that an emptied, truncated, reversed or
 * foreign merges file fails at load instead of silently tokenizing prompts differently (into letters, or other
 * pieces), which changes every image. Two properties of byte-level BPE as CLIP's tokenizer was trained:
 *
 * <ul>
 * <li><b>order</b>: each merge joins two symbols that exist at its rank: base symbols (one byte symbol, optionally
 * with the word-end suffix {@code </w>}) or the result of an earlier merge. A reversed or shuffled file breaks this
 * at its first line;
 * <li><b>coverage</b>: every vocabulary entry is a base symbol, a special token, or the result of some merge. With
 * merges missing (an empty or truncated file) the tokens they produce can never be reached.
 * </ul>
 *
 * A tokenizer with no merges at all and a vocabulary of base symbols only (the demo bundle's) passes both.
 * Messages give ranks and counts, never the tokens' text.
 */
final class BpeConsistency {
    static final String WORD_END = "</w>";

    private BpeConsistency() {
    }

    static void check(Path vocabFile, Path mergesFile, JsonObject vocab, List<String> merges, Set<String> special) {
        Set<String> produced = new HashSet<>(merges.size() * 2);
        for (int rank = 0; rank < merges.size(); rank++) {
            String merge = merges.get(rank);
            int space = merge.indexOf(' ');
            String a = merge.substring(0, space);
            String b = merge.substring(space + 1);
            for (String part : new String[] {a, b}) {
                if (!isBase(part) && !produced.contains(part)) {
                    throw new InvalidModelException(mergesFile, null, "merge " + (rank + 1) + " of " + merges.size()
                            + " joins a symbol that no earlier merge produces: the merges are out of order"
                            + " (reversed, shuffled, or from another tokenizer)");
                }
            }
            String result = a + b;
            if (!vocab.has(result)) {
                throw new InvalidModelException(mergesFile, null, "merge " + (rank + 1) + " of " + merges.size()
                        + " produces a token that " + vocabFile.getFileName() + " does not have: the merges belong"
                        + " to another vocabulary");
            }
            produced.add(result);
        }
        int unreachable = 0;
        for (String token : vocab.keySet()) {
            if (!isBase(token) && !produced.contains(token) && !special.contains(token)) {
                unreachable++;
            }
        }
        if (unreachable > 0) {
            throw new InvalidModelException(mergesFile, null, unreachable + " of the " + vocab.size() + " tokens of "
                    + vocabFile.getFileName() + " are produced by no merge of its " + merges.size() + ": "
                    + mergesFile.getFileName() + " is empty, truncated or belongs to another vocabulary");
        }
    }

    /** One symbol (one code point), optionally with the word-end suffix: what BPE starts from. */
    private static boolean isBase(String token) {
        String s = token.endsWith(WORD_END) ? token.substring(0, token.length() - WORD_END.length()) : token;
        return !s.isEmpty() && s.codePointCount(0, s.length()) == 1;
    }
}
