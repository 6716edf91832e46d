package dev.instaflow.train.model;

import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Weight initialisation from a seeded generator, so a given seed always builds the same network. */
final class Init {
    private final Generator generator;

    Init(long seed) {
        this.generator = torch.createCPUGenerator(seed);
    }

    /** Normal with standard deviation {@code gain / sqrt(fanIn)}. */
    Tensor normal(double gain, long fanIn, long... shape) {
        return torch.randn(shape, new GeneratorOptional(generator), new TensorOptions(ScalarType.Float))
                .mul(new Scalar(gain / Math.sqrt(fanIn)));
    }

    static Tensor zeros(long... shape) {
        return torch.zeros(shape, new TensorOptions(ScalarType.Float));
    }

    static Tensor ones(long... shape) {
        return torch.ones(shape, new TensorOptions(ScalarType.Float));
    }
}
