package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.Layers;
import dev.instaflow.engine.nn.Weights;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.DoubleArrayRefOptional;
import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.LongArrayRefOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code Upsample2D(use_conv=True)}: nearest-neighbour interpolation to twice the size (or to
 * {@code output_size} when given, as the UNet does for sizes its downsamplers did not halve evenly), then a 3x3 conv.
 * Key {@code upsamplers.0.conv}.
 */
final class Upsample2D {
    private final Conv2d conv;

    private Upsample2D(Conv2d conv) {
        this.conv = conv;
    }

    static Upsample2D load(Weights w, int channels) {
        return new Upsample2D(Conv2d.load(w.at("conv"), channels, channels, 3, 1, 1));
    }

    /** @param outputSize {@code [h, w]} or null for twice the input size */
    Tensor forward(Tensor x, long[] outputSize) {
        return Layers.scoped(() -> {
            long[] s = Tensors.shape(x);
            long[] size = outputSize != null ? outputSize : new long[] {s[2] * 2, s[3] * 2};
            // The output-size form (no scale factors), through owned native memory: an ArrayRef does not own its data.
            LongPointer sizeData = new LongPointer(size);
            Tensor up = torch.upsample_nearest2d(x, new LongArrayRefOptional(new LongArrayRef(sizeData, size.length)),
                    new DoubleArrayRefOptional());
            return conv.forward(up);
        });
    }
}
