package dev.instaflow.engine.bundle;

import dev.instaflow.engine.EntryPoint;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes a {@link BundleManifest} as {@code manifest.json}, in the field order of {@code docs/bundle-format.md}. */
@EntryPoint("writing manifest.json: the CLI's inspect, training's export, tooling")
public final class ManifestWriter {
    private ManifestWriter() {
    }

    /** The manifest as JSON text. */
    public static String toJson(BundleManifest m) {
        JsonObject root = new JsonObject();
        root.addProperty("format", BundleManifest.FORMAT);
        root.addProperty("format_version", BundleManifest.CURRENT_VERSION);
        root.addProperty("name", m.name());
        root.addProperty("family", m.family());
        if (!m.description().isEmpty()) {
            root.addProperty("description", m.description());
        }
        root.addProperty("dtype", m.dtype().id());
        root.addProperty("traced_on", m.tracedOn());

        JsonObject prediction = new JsonObject();
        m.prediction().writeTo(prediction);
        root.add("prediction", prediction);

        JsonObject latent = new JsonObject();
        latent.addProperty("channels", m.latent().channels());
        latent.addProperty("vae_scale_factor", m.latent().vaeScaleFactor());
        latent.addProperty("scaling_factor", m.latent().scalingFactor());
        root.add("latent", latent);

        JsonObject image = new JsonObject();
        image.addProperty("default_width", m.image().defaultWidth());
        image.addProperty("default_height", m.image().defaultHeight());
        image.addProperty("size_multiple", m.image().sizeMultiple());
        root.add("image", image);

        JsonObject text = new JsonObject();
        text.addProperty("max_length", m.text().maxLength());
        text.addProperty("hidden_size", m.text().hiddenSize());
        text.addProperty("bos_id", m.text().bosId());
        text.addProperty("eos_id", m.text().eosId());
        text.addProperty("pad_id", m.text().padId());
        root.add("text", text);

        JsonObject sampling = new JsonObject();
        sampling.addProperty("sampler", m.sampling().sampler().id());
        sampling.addProperty("steps", m.sampling().steps());
        sampling.addProperty("guidance", m.sampling().guidance());
        sampling.addProperty("negative_prompt", m.sampling().negativePrompt());
        root.add("sampling", sampling);

        JsonObject limits = new JsonObject();
        limits.addProperty("max_size", m.limits().maxSize());
        limits.addProperty("max_batch", m.limits().maxBatch());
        limits.addProperty("max_steps", m.limits().maxSteps());
        root.add("limits", limits);

        JsonObject parts = new JsonObject();
        parts.addProperty("text_encoder", m.parts().textEncoder());
        parts.addProperty("denoiser", m.parts().denoiser());
        parts.addProperty("vae_decoder", m.parts().vaeDecoder());
        parts.addProperty("tokenizer", m.parts().tokenizer());
        m.parts().refinerPath().ifPresent(r -> parts.addProperty("refiner", r));
        m.parts().vaeEncoderPath().ifPresent(e -> parts.addProperty("vae_encoder", e));
        root.add("parts", parts);

        if (!m.provenance().isEmpty()) {
            JsonObject provenance = new JsonObject();
            m.provenance().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                    .forEach(e -> provenance.addProperty(e.getKey(), e.getValue()));
            root.add("provenance", provenance);
        }
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root) + "\n";
    }

    /**
     * Writes {@code manifest.json} into {@code bundleDirectory} atomically (a hidden sibling file, then a rename). The
     * sibling is an ordinary file with the process's default permissions (a {@code createTempFile} one would leave
     * the manifest readable by its owner only).
     */
    public static void write(BundleManifest m, Path bundleDirectory) throws IOException {
        Path target = bundleDirectory.resolve(BundleManifest.FILE_NAME);
        Path tmp = bundleDirectory.resolve(".manifest-" + java.util.UUID.randomUUID() + ".json.tmp");
        try {
            Files.writeString(tmp, toJson(m), StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
