package dev.instaflow.samples.cli;

import dev.instaflow.Generation.PromptTokens;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.text.ClipTokenizer;
import dev.instaflow.engine.text.TokenizedBatch;
import dev.instaflow.engine.text.TokenizerFraming;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code instaflow tokenize}: the framed token ids the text encoder sees, one line per text. */
@Command(name = "tokenize", sortOptions = false,
        header = "Prints the token ids the text encoder sees for each text.",
        description = {"One line per text: [bos] + its tokens (at most max_length - 2) + [eos], padded to"
                + " max_length (77 for CLIP) with the pad id, as the model's text encoder receives them."})
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--model", paramLabel = "DIR",
                description = "A bundle: its tokenizer, framed as its manifest says.")
        Path model;

        @Option(names = "--tokenizer", paramLabel = "DIR",
                description = "A tokenizer folder, framed as its own special-token files say.")
        Path tokenizer;
    }

    @Option(names = "--pieces", description = "After each line of ids, a line with the BPE pieces of the text.")
    boolean pieces;

    @Parameters(paramLabel = "TEXT", arity = "1..*", description = "Texts to tokenize.")
    List<String> texts;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        Path folder;
        BundleManifest.Text framing;
        if (source.model != null) {
            Bundle bundle = Bundle.open(source.model);
            folder = bundle.tokenizer();
            framing = bundle.manifest().text();
        } else {
            folder = source.tokenizer;
            framing = TokenizerFraming.read(folder);
        }
        try (ClipTokenizer tokenizer = ClipTokenizer.load(folder, framing)) {
            TokenizedBatch batch = tokenizer.encode(texts);
            for (int i = 0; i < batch.size(); i++) {
                stdout.println(Arrays.stream(batch.row(i)).mapToObj(Long::toString).collect(Collectors.joining(" ")));
                if (pieces) {
                    stdout.println("# " + String.join(" ", tokenizer.pieces(texts.get(i))));
                }
                PromptTokens p = batch.prompts().get(i);
                if (p.truncated()) {
                    stderr.println("warning: text " + (i + 1) + " has " + p.tokenCount() + " tokens; only the first "
                            + p.keptTokens() + " fit the " + framing.maxLength() + "-token window, the rest is ignored");
                }
            }
        }
        stdout.flush();
        stderr.flush();
        return 0;
    }
}
