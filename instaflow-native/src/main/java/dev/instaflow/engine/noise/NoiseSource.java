package dev.instaflow.engine.noise;

import dev.instaflow.LatentNoise;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Initial latent noise, always made on the CPU in float32 and moved to the device afterwards, so a seed gives the
 * same image on every device. Seeded noise is LibTorch's own {@code randn} on a fresh CPU generator: bit for bit
 * what diffusers draws with {@code generator=torch.manual_seed(seed)}, as one draw of the whole batch.
 */
public final class NoiseSource {
    private NoiseSource() {
    }

    /** {@code torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed), dtype=float32)}. */
    public static Tensor seeded(long seed, long... shape) {
        Generator generator = torch.createCPUGenerator(seed);
        return torch.randn(shape, new GeneratorOptional(generator), new TensorOptions(ScalarType.Float));
    }

    /** The caller's noise as a CPU tensor. */
    public static Tensor given(LatentNoise noise) {
        float[] values = new float[noise.size()];
        noise.copyTo(values);
        return Tensors.fromFloats(values, noise.shape());
    }
}
