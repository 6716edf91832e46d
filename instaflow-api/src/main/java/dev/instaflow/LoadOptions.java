package dev.instaflow;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How to load a model. Immutable; build with {@link #builder()}. Every setting has a documented default, so
 * {@link #defaults()} is what {@link InstaFlow#load(java.nio.file.Path)} uses.
 *
 * <pre>{@code
 * LoadOptions options = LoadOptions.builder().device(Device.cpu()).warmUp(false).build();
 * }</pre>
 */
public final class LoadOptions {
    private static final LoadOptions DEFAULTS = builder().build();

    private final Device device;
    private final Precision precision;
    private final Boolean warmUp;
    private final String variant;
    private final Path settings;

    private LoadOptions(Builder b) {
        this.device = b.device;
        this.precision = b.precision;
        this.warmUp = b.warmUp;
        this.variant = b.variant;
        this.settings = b.settings;
    }

    public static LoadOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.device = device;
        b.precision = precision;
        b.warmUp = warmUp;
        b.variant = variant;
        b.settings = settings;
        return b;
    }

    /**
     * Where the model runs. Empty (the default) picks a device: the first CUDA GPU when the GPU natives
     * ({@code instaflow-native} built with the {@code gpu} profile) and a usable GPU are present, else the CPU. A
     * device given here is used or the load fails with {@link DeviceUnavailableException}; it never falls back.
     */
    public Optional<Device> device() {
        return Optional.ofNullable(device);
    }

    /**
     * The precision to run in. Empty (the default) means the bundle's own ({@code dtype} in its manifest). Another
     * value casts the networks' floating-point weights at load; the load-time check of each part then shows whether the
     * part runs in it. Parts traced from Python usually fix their dtype in the graph and fail that check (with a
     * message saying so): export such a bundle in the precision you need. The CPU runs float32 only.
     */
    public Optional<Precision> precision() {
        return Optional.ofNullable(precision);
    }

    /**
     * Whether {@code load} runs the model's default generation twice before returning, so that the first real call
     * does not pay TorchScript's profiling and specialisation (and cuDNN's autotuning, when on). Empty (the default)
     * means yes on CUDA and no on the CPU, where a full-size warm-up takes seconds. One-shot programs (a command line
     * that generates one image) should turn it off.
     */
    public Optional<Boolean> warmUp() {
        return Optional.ofNullable(warmUp);
    }

    /**
     * Diffusers snapshots only: which weight variant to read, e.g. {@code "fp16"} for
     * {@code diffusion_pytorch_model.fp16.safetensors} (and its sharded form). Empty (the default) reads the plain
     * files, or the only variant a component folder has. The weights are cast to the load precision either way.
     */
    public Optional<String> variant() {
        return Optional.ofNullable(variant);
    }

    /**
     * Diffusers snapshots only: an {@code instaflow.json} to use instead of the one beside {@code model_index.json}
     * (for a snapshot you cannot or do not want to write into, such as a read-only download cache). Its format is in
     * {@code docs/models.md}. Empty (the default) reads the snapshot's own file, if any.
     */
    public Optional<Path> settings() {
        return Optional.ofNullable(settings);
    }

    @Override
    public String toString() {
        return "LoadOptions{device=" + (device == null ? "auto" : device)
                + ", precision=" + (precision == null ? "model's" : precision)
                + ", warmUp=" + (warmUp == null ? "auto" : warmUp)
                + (variant == null ? "" : ", variant=" + variant) + (settings == null ? "" : ", settings=" + settings)
                + '}';
    }

    /** Builder for {@link LoadOptions}. */
    public static final class Builder {
        private Device device;
        private Precision precision;
        private Boolean warmUp;
        private String variant;
        private Path settings;

        private Builder() {
        }

        /** Run on exactly this device; see {@link LoadOptions#device()}. */
        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        public Builder precision(Precision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
            return this;
        }

        /** Run (or skip) the warm-up generations at load; see {@link LoadOptions#warmUp()}. */
        public Builder warmUp(boolean warmUp) {
            this.warmUp = warmUp;
            return this;
        }

        /** The snapshot weight variant to read, such as {@code "fp16"}; see {@link LoadOptions#variant()}. */
        public Builder variant(String variant) {
            Objects.requireNonNull(variant, "variant");
            if (!variant.matches("[A-Za-z0-9_]+")) {
                throw new IllegalArgumentException("variant must be a plain name such as \"fp16\", got \""
                        + variant + "\"");
            }
            this.variant = variant;
            return this;
        }

        /** The snapshot's {@code instaflow.json} to use instead of its own; see {@link LoadOptions#settings()}. */
        public Builder settings(Path instaflowJson) {
            this.settings = Objects.requireNonNull(instaflowJson, "settings");
            return this;
        }

        public LoadOptions build() {
            return new LoadOptions(this);
        }
    }
}
