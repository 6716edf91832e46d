package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.snapshot.ComponentWeights;
import dev.instaflow.engine.testing.ReferenceCase;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.Optional;

/** Loading a fixture's UNet and its reference inputs, for the UNet tests. */
final class UNetFixtures {
    private UNetFixtures() {
    }

    /** A built UNet and the state dict that owns its weights; closing closes both. */
    record Loaded(UNet2DConditionModel unet, StateDict weights) implements AutoCloseable {
        @Override
        public void close() {
            unet.close();
            weights.close();
        }
    }

    static Loaded load(Path unetFolder) {
        UNetConfig config = UNetConfig.read(unetFolder.resolve("config.json"));
        StateDict weights = ComponentWeights.load("unet", unetFolder, "diffusion_pytorch_model", Optional.empty(),
                t -> t);
        try {
            UNet2DConditionModel unet = UNet2DConditionModel.build(config, weights, unetFolder);
            weights.requireAllTaken();
            return new Loaded(unet, weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** A float32 tensor of the case (int64 tensors, such as an epsilon case's timestep, converted to float32). */
    static Tensor tensor(ReferenceCase c, String name) {
        long[] shape = c.shape(name);
        switch (c.dtype(name)) {
            case "<f4":
                return Tensors.fromFloats(c.floats(name), shape);
            case "<i8": {
                long[] v = c.longs(name);
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = (float) v[i];
                }
                return Tensors.fromFloats(f, shape);
            }
            default:
                throw new IllegalArgumentException(name + " has dtype " + c.dtype(name));
        }
    }
}
