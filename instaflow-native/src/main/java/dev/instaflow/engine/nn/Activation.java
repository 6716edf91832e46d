package dev.instaflow.engine.nn;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.InvalidModelException;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The activation functions the built-in networks' configs may name ({@code act_fn}, {@code hidden_act}). */
@EntryPoint("activation names in configs: the CLI's inspect")
public enum Activation {
    /** {@code x·sigmoid(x)}. */
    SILU("silu"),
    /** The exact GELU, {@code 0.5·x·(1 + erf(x/√2))} (transformers' and diffusers' {@code "gelu"}). */
    GELU("gelu"),
    /** CLIP's {@code x·sigmoid(1.702·x)}. */
    QUICK_GELU("quick_gelu");

    private static final Scalar QUICK_GELU_SLOPE = retained(new Scalar(1.702));

    private final String configName;

    Activation(String configName) {
        this.configName = configName;
    }

    /** The name configs use. */
    public String configName() {
        return configName;
    }

    public Tensor apply(Tensor x) {
        return switch (this) {
            case SILU -> torch.silu(x);
            case GELU -> torch.gelu(x);
            case QUICK_GELU -> x.mul(torch.sigmoid(x.mul(QUICK_GELU_SLOPE)));
        };
    }

    /**
     * The activation a config names.
     *
     * @throws InvalidModelException naming the file and field when the value is not one of the supported names
     */
    public static Activation fromConfig(String value, Path file, String field) {
        for (Activation a : values()) {
            if (a.configName.equals(value)) {
                return a;
            }
        }
        throw new InvalidModelException(file, field, "activation \"" + value + "\" is not supported; supported: "
                + Arrays.stream(values()).map(Activation::configName).collect(Collectors.joining(", ")));
    }

    private static Scalar retained(Scalar s) {
        s.retainReference();
        return s;
    }
}
