package dev.instaflow.samples.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.selftest.SelfTestSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code instaflow inspect}: a bundle's manifest and the files and forward signatures of its parts. */
@Command(name = "inspect", sortOptions = false,
        header = "Shows a bundle's manifest and its parts' files, sizes and forward signatures.",
        description = {"The forward signatures (argument names and types, return type) are read from the"
                + " TorchScript archives themselves."})
final class InspectCommand implements Callable<Integer> {
    private static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--json", description = "Print one JSON object (manifest, parts, tokenizer, self-test).")
    boolean json;

    /** One TorchScript part: its role in the manifest, its file (relative to the bundle), size and signature. */
    private record Part(String role, Path file, long bytes, TorchScriptSignature signature) {
    }

    @Override
    public Integer call() throws IOException {
        Bundle bundle = Bundle.open(modelOptions.directory(spec.commandLine().getErr()));
        JsonElement manifest = JsonParser.parseString(Files.readString(bundle.manifestFile(), StandardCharsets.UTF_8));

        Map<String, Path> files = new LinkedHashMap<>();
        files.put("text_encoder", bundle.textEncoder());
        files.put("denoiser", bundle.denoiser());
        files.put("vae_decoder", bundle.vaeDecoder());
        bundle.refiner().ifPresent(r -> files.put("refiner", r));
        List<Part> parts = new ArrayList<>();
        for (Map.Entry<String, Path> f : files.entrySet()) {
            parts.add(new Part(f.getKey(), bundle.directory().relativize(f.getValue()), Files.size(f.getValue()),
                    TorchScriptSignature.read(f.getValue())));
        }
        Map<String, Long> tokenizerFiles = new LinkedHashMap<>();
        try (Stream<Path> list = Files.list(bundle.tokenizer())) {
            for (Path f : (Iterable<Path>) list.sorted()::iterator) {
                tokenizerFiles.put(f.getFileName().toString(), Files.size(f));
            }
        }
        Path selfTest = Path.of(SelfTestSpec.FOLDER, SelfTestSpec.FILE);
        boolean hasSelfTest = Files.isRegularFile(bundle.directory().resolve(selfTest));

        PrintWriter stdout = spec.commandLine().getOut();
        Path tokenizer = bundle.directory().relativize(bundle.tokenizer());
        if (json) {
            stdout.println(PRETTY.toJson(toJson(bundle, manifest, parts, tokenizer, tokenizerFiles, hasSelfTest)));
        } else {
            stdout.println("bundle " + bundle.directory());
            stdout.println();
            stdout.println("manifest.json:");
            stdout.println(PRETTY.toJson(manifest));
            stdout.println();
            stdout.println("parts:");
            for (Part p : parts) {
                stdout.printf(Locale.ROOT, "  %-13s %s (%s)%n", p.role(), p.file(), size(p.bytes()));
                stdout.println("                " + p.signature());
            }
            stdout.printf(Locale.ROOT, "  %-13s %s/%n", "tokenizer", tokenizer);
            tokenizerFiles.forEach((name, bytes) -> stdout.println("                " + name + " (" + size(bytes) + ")"));
            stdout.println();
            stdout.println("self-test: " + (hasSelfTest ? selfTest + " (run `instaflow verify`)" : "none"));
        }
        stdout.flush();
        return 0;
    }

    private static JsonObject toJson(Bundle bundle, JsonElement manifest, List<Part> parts, Path tokenizer,
                                     Map<String, Long> tokenizerFiles, boolean hasSelfTest) {
        JsonObject o = new JsonObject();
        o.addProperty("directory", bundle.directory().toString());
        o.add("manifest", manifest);
        JsonObject partsJson = new JsonObject();
        for (Part part : parts) {
            JsonObject p = new JsonObject();
            p.addProperty("file", part.file().toString());
            p.addProperty("bytes", part.bytes());
            JsonArray arguments = new JsonArray();
            for (TorchScriptSignature.Argument a : part.signature().arguments()) {
                JsonObject argument = new JsonObject();
                argument.addProperty("name", a.name());
                argument.addProperty("type", a.type());
                arguments.add(argument);
            }
            p.add("arguments", arguments);
            p.addProperty("returns", part.signature().returns());
            partsJson.add(part.role(), p);
        }
        o.add("parts", partsJson);
        JsonObject tokenizerJson = new JsonObject();
        tokenizerJson.addProperty("folder", tokenizer.toString());
        JsonObject filesJson = new JsonObject();
        tokenizerFiles.forEach(filesJson::addProperty);
        tokenizerJson.add("files", filesJson);
        o.add("tokenizer", tokenizerJson);
        o.addProperty("selftest", hasSelfTest);
        return o;
    }

    private static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
