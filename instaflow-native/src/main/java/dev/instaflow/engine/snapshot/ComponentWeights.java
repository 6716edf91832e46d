package dev.instaflow.engine.snapshot;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.JsonElement;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.JsonFields;
import dev.instaflow.engine.nn.StateDict;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Finds and reads the weights of one snapshot component folder ({@code unet/}, {@code vae/}, {@code text_encoder/})
 * the way diffusers and transformers name them: {@code BASE.safetensors}, a variant {@code BASE.VARIANT.safetensors}
 * (e.g. {@code diffusion_pytorch_model.fp16.safetensors}), or a sharded checkpoint whose
 * {@code BASE.safetensors.index.json} (variant: {@code BASE.safetensors.index.VARIANT.json}) maps every key to its
 * shard. Pickled {@code .bin} weights are refused with the one-line conversion: LibTorch's own unpickler (the only
 * one that runs no Python code) cannot rebuild the {@code OrderedDict} every state dict is, as
 * {@code ComponentWeightsTest} shows, and would need the whole file in memory besides.
 */
@EntryPoint("which weight files a component reads: the CLI's inspect")
public final class ComponentWeights {
    private ComponentWeights() {
    }

    /**
     * @param component what the weights are, for messages ("unet")
     * @param folder    the component folder
     * @param base      the file name stem: {@code diffusion_pytorch_model} (diffusers) or {@code model} (transformers)
     * @param variant   the variant to read (e.g. "fp16"), or empty for the plain file (or the only variant present)
     * @param prepare   casts and moves each tensor as it is read
     */
    public static StateDict load(String component, Path folder, String base, Optional<String> variant,
                                 UnaryOperator<Tensor> prepare) {
        Located located = locate(component, folder, base, variant);
        StateDict dict = new StateDict(component, located.files().get(0));
        try {
            for (Path file : located.files()) {
                SafetensorsFile st = SafetensorsFile.open(file);
                if (located.shardOf() != null) {
                    for (SafetensorsFile.Entry e : st.entries()) {
                        Path expected = located.shardOf().get(e.name());
                        if (expected == null || !expected.equals(file)) {
                            throw new InvalidModelException(file, e.name(), "is stored in this shard but "
                                    + located.index().getFileName() + " maps it to "
                                    + (expected == null ? "no shard" : expected.getFileName().toString()));
                        }
                    }
                }
                st.readInto(dict, prepare);
            }
            if (located.shardOf() != null) {
                for (String key : located.shardOf().keySet()) {
                    if (!dict.contains(key)) {
                        throw new InvalidModelException(located.shardOf().get(key), key, "is listed in "
                                + located.index().getFileName() + " but not stored in that shard");
                    }
                }
            }
            return dict;
        } catch (RuntimeException | Error e) {
            dict.close();
            throw e;
        }
    }

    /**
     * The weight files {@link #load} reads for a component, in order, without reading them.
     *
     * @param index   the shard index, when the checkpoint is sharded
     * @param shardOf the index's key-to-shard map, when sharded
     */
    public record Located(List<Path> files, Path index, Map<String, Path> shardOf) {
    }

    /** Finds the weight files of a component (see {@link #load} for the rules). */
    public static Located locate(String component, Path folder, String base, Optional<String> variant) {
        Path single = folder.resolve(withVariant(base + ".safetensors", variant));
        Path index = folder.resolve(withVariant(base + ".safetensors.index.json", variant));
        if (Files.isRegularFile(single)) {
            return new Located(List.of(single), null, null);
        }
        if (Files.isRegularFile(index)) {
            Map<String, Path> shardOf = readIndex(index, folder);
            return new Located(List.copyOf(new TreeSet<>(shardOf.values())), index, shardOf);
        }
        if (variant.isPresent() && (Files.isRegularFile(folder.resolve(base + ".safetensors"))
                || Files.isRegularFile(folder.resolve(base + ".safetensors.index.json")))) {
            // As diffusers does: a component without the requested variant is read from its plain weights (cast to
            // the load precision all the same).
            return locate(component, folder, base, Optional.empty());
        }
        Optional<String> only = variant.isPresent() ? Optional.empty() : onlyVariant(folder, base);
        if (only.isPresent()) {
            return locate(component, folder, base, only);
        }
        throw missing(component, folder, base, variant);
    }

    /** {@code diffusers}' {@code _add_variant}: the variant goes before the last extension. */
    static String withVariant(String name, Optional<String> variant) {
        if (variant.isEmpty()) {
            return name;
        }
        int dot = name.lastIndexOf('.');
        return name.substring(0, dot) + "." + variant.get() + name.substring(dot);
    }

    private static Map<String, Path> readIndex(Path index, Path folder) {
        JsonFields root = JsonFields.read(index);
        JsonFields map = root.object("weight_map");
        Map<String, Path> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : map.raw().entrySet()) {
            String shard = map.string(e.getKey());
            Path file = folder.resolve(shard).normalize();
            if (!file.getParent().equals(folder.normalize()) || !Files.isRegularFile(file)) {
                throw new InvalidModelException(index, "weight_map." + e.getKey(), "names the shard \"" + shard
                        + "\", which is not a file in " + folder);
            }
            out.put(e.getKey(), file);
        }
        if (out.isEmpty()) {
            throw new InvalidModelException(index, "weight_map", "is empty");
        }
        return out;
    }

    private static Optional<String> onlyVariant(Path folder, String base) {
        List<String> variants = variants(folder, base);
        return variants.size() == 1 ? Optional.of(variants.get(0)) : Optional.empty();
    }

    private static List<String> variants(Path folder, String base) {
        List<String> out = new ArrayList<>();
        try (Stream<Path> list = Files.list(folder)) {
            list.map(p -> p.getFileName().toString()).sorted().forEach(name -> {
                if (name.startsWith(base + ".") && name.endsWith(".safetensors")) {
                    String middle = name.substring(base.length() + 1, name.length() - ".safetensors".length());
                    if (!middle.isEmpty() && !middle.contains(".") && !middle.contains("-of-")) {
                        out.add(middle);
                    }
                }
                String indexPrefix = base + ".safetensors.index.";
                if (name.startsWith(indexPrefix) && name.endsWith(".json") && !name.equals(base + ".safetensors.index.json")) {
                    String middle = name.substring(indexPrefix.length(), name.length() - ".json".length());
                    if (!out.contains(middle)) {
                        out.add(middle);
                    }
                }
            });
        } catch (IOException e) {
            throw new InvalidModelException(folder, null, "cannot be listed: " + e, e);
        }
        return out;
    }

    private static InvalidModelException missing(String component, Path folder, String base,
                                                  Optional<String> variant) {
        Path bin = folder.resolve(withVariant(base.equals("model") ? "pytorch_model.bin" : base + ".bin", variant));
        if (Files.isRegularFile(bin)) {
            return new InvalidModelException(bin, null, "the " + component + " weights are pickled (.bin), which"
                    + " this SDK does not read (Python's unpickler can run code, and LibTorch's cannot rebuild a state"
                    + " dict); convert them once to safetensors: python -c \"import torch, safetensors.torch as s;"
                    + " s.save_file(torch.load('" + bin.getFileName() + "', map_location='cpu'), '"
                    + withVariant(base + ".safetensors", variant) + "')\"");
        }
        List<String> variants = variants(folder, base);
        String found = variants.isEmpty() ? "" : "; variants present: " + String.join(", ", variants)
                + " (choose one with LoadOptions.variant)";
        return new InvalidModelException(folder, null, "has no " + component + " weights: expected "
                + withVariant(base + ".safetensors", variant) + " or "
                + withVariant(base + ".safetensors.index.json", variant) + found);
    }
}
