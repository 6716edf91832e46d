package dev.instaflow.samples.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The image size a model was made for, when TorchScript parts come with the diffusers snapshot they were traced
 * from: the UNet's {@code sample_size} (latent cells, from {@code unet/config.json}) times the VAE's upscaling
 * ({@code 2^(len(block_out_channels) - 1)}, from {@code vae/config.json}). A traced part does not record it (its
 * convolutions take any size), so {@code bundle} looks for the two configs beside the tokenizer folder (the
 * snapshot root) or beside the part files.
 *
 * @param width   default width in pixels
 * @param height  default height in pixels
 * @param source  where the numbers came from, for the report
 */
record SnapshotSize(int width, int height, String source) {

    /** The size from the configs near {@code tokenizer}, {@code denoiser} and {@code vaeDecoder}, if both are found. */
    static Optional<SnapshotSize> find(Path tokenizer, Path denoiser, Path vaeDecoder) {
        Optional<Path> unetConfig = first(candidates(tokenizer, "unet", denoiser), "sample_size");
        Optional<Path> vaeConfig = first(candidates(tokenizer, "vae", vaeDecoder), "block_out_channels");
        if (unetConfig.isEmpty() || vaeConfig.isEmpty()) {
            return Optional.empty();
        }
        JsonObject unet = read(unetConfig.get());
        JsonObject vae = read(vaeConfig.get());
        JsonElement sample = unet.get("sample_size");
        int latentHeight;
        int latentWidth;
        if (sample.isJsonArray() && sample.getAsJsonArray().size() == 2) {
            latentHeight = sample.getAsJsonArray().get(0).getAsInt();
            latentWidth = sample.getAsJsonArray().get(1).getAsInt();
        } else {
            latentHeight = sample.getAsInt();
            latentWidth = latentHeight;
        }
        int levels = vae.getAsJsonArray("block_out_channels").size();
        if (latentHeight < 1 || latentWidth < 1 || levels < 1 || levels > 8) {
            return Optional.empty();
        }
        int factor = 1 << (levels - 1);
        String source = unetConfig.get() + " sample_size " + (latentWidth == latentHeight ? latentWidth
                : latentHeight + "x" + latentWidth) + " x VAE factor " + factor + " (" + vaeConfig.get() + ")";
        return Optional.of(new SnapshotSize(latentWidth * factor, latentHeight * factor, source));
    }

    private static List<Path> candidates(Path tokenizer, String component, Path part) {
        List<Path> paths = new ArrayList<>();
        Path root = tokenizer.toAbsolutePath().normalize().getParent();
        if (root != null) {
            paths.add(root.resolve(component).resolve("config.json"));
        }
        Path beside = part.toAbsolutePath().normalize().getParent();
        if (beside != null) {
            paths.add(beside.resolve("config.json"));
        }
        return paths;
    }

    /** The first readable JSON object among {@code paths} that has {@code key}. */
    private static Optional<Path> first(List<Path> paths, String key) {
        for (Path p : paths) {
            if (Files.isRegularFile(p)) {
                try {
                    if (read(p).has(key)) {
                        return Optional.of(p);
                    }
                } catch (RuntimeException e) {
                    // not a config of that kind: try the next
                }
            }
        }
        return Optional.empty();
    }

    private static JsonObject read(Path file) {
        try {
            return JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
