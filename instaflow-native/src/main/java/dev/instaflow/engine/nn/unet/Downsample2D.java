package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.Layers;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code Downsample2D(use_conv=True, name="op")}: a 3x3 conv of stride 2 with padding
 * {@code downsample_padding}; with padding 0 the input is first padded by one zero row and column at the end, as
 * diffusers does. Key {@code downsamplers.0.conv}.
 */
final class Downsample2D {
    private final Conv2d conv;
    private final boolean padEnd;

    private Downsample2D(Conv2d conv, boolean padEnd) {
        this.conv = conv;
        this.padEnd = padEnd;
    }

    static Downsample2D load(Weights w, int channels, int padding) {
        return new Downsample2D(Conv2d.load(w.at("conv"), channels, channels, 3, 2, padding), padding == 0);
    }

    Tensor forward(Tensor x) {
        return Layers.scoped(() -> conv.forward(padEnd ? torch.constant_pad_nd(x, 0, 1, 0, 1) : x));
    }
}
