package dev.instaflow.samples.cli;

import dev.instaflow.tooling.inspect.TorchScriptSignature;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.LoadOptions;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.JsonFields;
import dev.instaflow.engine.bundle.ManifestWriter;
import dev.instaflow.engine.snapshot.ComponentWeights;
import dev.instaflow.engine.snapshot.SafetensorsFile;
import dev.instaflow.engine.snapshot.Snapshot;
import dev.instaflow.engine.snapshot.SnapshotConfigs;
import dev.instaflow.tooling.selftest.SelfTestSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code instaflow inspect}: a bundle's manifest and the files and forward signatures of its parts, or a diffusers
 * snapshot's derived manifest, its components and their weight files.
 */
@Command(name = "inspect", sortOptions = false,
        header = "Shows a model's manifest and its parts: a bundle's TorchScript files and forward signatures, or a"
                + " snapshot's components, configs and weight files.",
        description = {"The forward signatures (argument names and types, return type) are read from the"
                + " TorchScript archives themselves; a snapshot's weights are described from their safetensors"
                + " headers, without reading the weights."})
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
        Path directory = modelOptions.directory(spec.commandLine().getErr());
        if (Snapshot.isSnapshot(directory)) {
            return inspectSnapshot(directory);
        }
        Bundle bundle = Bundle.open(directory);
        JsonElement manifest = JsonFields.read(bundle.manifestFile()).raw(); // as checked by Bundle.open

        Map<String, Path> files = new LinkedHashMap<>();
        files.put("text_encoder", bundle.textEncoder());
        files.put("denoiser", bundle.denoiser());
        files.put("vae_decoder", bundle.vaeDecoder());
        bundle.refiner().ifPresent(r -> files.put("refiner", r));
        bundle.vaeEncoder().ifPresent(e -> files.put("vae_encoder", e));
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

    /** One snapshot component: its folder, what the SDK builds from it, and its weight files. */
    private record Component(String name, String network, List<Path> files, long bytes, int tensors,
                             Map<String, Integer> dtypes) {
    }

    private int inspectSnapshot(Path directory) {
        Snapshot snapshot = Snapshot.open(directory, modelOptions.apply(LoadOptions.defaults()));
        SnapshotConfigs c = snapshot.configs();
        List<Component> components = List.of(
                component(snapshot, Snapshot.TEXT_ENCODER, "transformers " + c.textEncoder().architecture() + " ("
                        + c.textEncoder().layers() + " layers, " + c.textEncoder().hiddenSize() + " wide, "
                        + c.textEncoder().activation().configName() + ")", "model"),
                component(snapshot, Snapshot.UNET, "diffusers UNet2DConditionModel (blocks "
                        + java.util.Arrays.toString(c.unet().blockOutChannels()) + ", heads "
                        + java.util.Arrays.toString(c.unet().numAttentionHeads()) + ", cross-attention "
                        + c.unet().crossAttentionDim() + (c.unet().useLinearProjection() ? ", linear projections" : "")
                        + ")", "diffusion_pytorch_model"),
                component(snapshot, Snapshot.VAE, "diffusers AutoencoderKL decoder and encoder (blocks "
                        + java.util.Arrays.toString(c.vae().blockOutChannels()) + ", scaling factor "
                        + c.vae().scalingFactor() + ")", "diffusion_pytorch_model"));
        JsonElement manifest = JsonParser.parseString(ManifestWriter.toJson(snapshot.manifest()));
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            JsonObject o = new JsonObject();
            o.addProperty("directory", snapshot.directory().toString());
            o.addProperty("kind", "diffusers snapshot");
            snapshot.settingsFile().ifPresent(f -> o.addProperty("settings", f.toString()));
            o.add("manifest", manifest);
            JsonObject comps = new JsonObject();
            for (Component k : components) {
                JsonObject one = new JsonObject();
                one.addProperty("network", k.network());
                JsonArray files = new JsonArray();
                k.files().forEach(f -> files.add(snapshot.directory().relativize(f).toString()));
                one.add("files", files);
                one.addProperty("bytes", k.bytes());
                one.addProperty("tensors", k.tensors());
                JsonObject dtypes = new JsonObject();
                k.dtypes().forEach(dtypes::addProperty);
                one.add("dtypes", dtypes);
                comps.add(k.name(), one);
            }
            o.add("components", comps);
            snapshot.refiner().ifPresent(r -> o.addProperty("refiner", snapshot.directory().relativize(r).toString()));
            stdout.println(PRETTY.toJson(o));
        } else {
            stdout.println("diffusers snapshot " + snapshot.directory());
            stdout.println("settings: " + snapshot.settingsFile().map(Path::toString)
                    .orElse("none (" + Snapshot.SETTINGS_FILE + " absent: the documented defaults apply)"));
            stdout.println();
            stdout.println("manifest (derived from the configs, the tokenizer and the settings):");
            stdout.println(PRETTY.toJson(manifest));
            stdout.println();
            stdout.println("components:");
            for (Component k : components) {
                stdout.printf(Locale.ROOT, "  %-13s %s%n", k.name(), k.network());
                for (Path f : k.files()) {
                    stdout.println("                " + snapshot.directory().relativize(f));
                }
                stdout.printf(Locale.ROOT, "                %d tensors, %s, %s%n", k.tensors(), size(k.bytes()),
                        k.dtypes());
            }
            stdout.printf(Locale.ROOT, "  %-13s %s/%n", "tokenizer", Snapshot.TOKENIZER);
            snapshot.refiner().ifPresent(r -> stdout.printf(Locale.ROOT, "  %-13s %s (TorchScript)%n", "refiner",
                    snapshot.directory().relativize(r)));
        }
        stdout.flush();
        return 0;
    }

    private Component component(Snapshot snapshot, String name, String network, String base) {
        ComponentWeights.Located located = ComponentWeights.locate(name, snapshot.component(name), base,
                Optional.ofNullable(modelOptions.variant));
        long bytes = 0;
        int tensors = 0;
        Map<String, Integer> dtypes = new java.util.TreeMap<>();
        for (Path f : located.files()) {
            for (SafetensorsFile.Entry e : SafetensorsFile.open(f).entries()) {
                bytes += e.end() - e.begin();
                tensors++;
                dtypes.merge(e.dtypeName(), 1, Integer::sum);
            }
        }
        return new Component(name, network, located.files(), bytes, tensors, dtypes);
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
