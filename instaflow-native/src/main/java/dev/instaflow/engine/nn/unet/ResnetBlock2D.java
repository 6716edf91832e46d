package dev.instaflow.engine.nn.unet;

import dev.instaflow.engine.nn.Activation;
import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.GroupNorm;
import dev.instaflow.engine.nn.Layers;
import dev.instaflow.engine.nn.Linear;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers' {@code ResnetBlock2D} with {@code time_embedding_norm="default"}, pre-norm, no up/down sampling:
 * {@code norm1 -> silu -> conv1 -> + time_emb_proj(silu(temb))[:, :, None, None] -> norm2 -> silu -> (dropout) ->
 * conv2}, plus the input (through the 1x1 {@code conv_shortcut} when the channel count changes), divided by
 * {@code output_scale_factor}.
 */
final class ResnetBlock2D {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final Linear timeEmbProj;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d convShortcut;
    private final double outputScaleFactor;

    private ResnetBlock2D(GroupNorm norm1, Conv2d conv1, Linear timeEmbProj, GroupNorm norm2, Conv2d conv2,
                          Conv2d convShortcut, double outputScaleFactor) {
        this.norm1 = norm1;
        this.conv1 = conv1;
        this.timeEmbProj = timeEmbProj;
        this.norm2 = norm2;
        this.conv2 = conv2;
        this.convShortcut = convShortcut;
        this.outputScaleFactor = outputScaleFactor;
    }

    static ResnetBlock2D load(Weights w, int in, int out, int tembChannels, int groups, double eps,
                              double outputScaleFactor) {
        return new ResnetBlock2D(GroupNorm.load(w.at("norm1"), groups, in, eps),
                Conv2d.load(w.at("conv1"), in, out, 3, 1, 1),
                Linear.load(w.at("time_emb_proj"), tembChannels, out, true),
                GroupNorm.load(w.at("norm2"), groups, out, eps),
                Conv2d.load(w.at("conv2"), out, out, 3, 1, 1),
                in != out ? Conv2d.load(w.at("conv_shortcut"), in, out, 1, 1, 0) : null,
                outputScaleFactor);
    }

    /** Runs in its own pointer scope. */
    Tensor forward(Tensor x, Tensor temb) {
        return Layers.scoped(() -> {
            Tensor h = conv1.forward(Activation.SILU.apply(norm1.forward(x)));
            Tensor t = timeEmbProj.forward(Activation.SILU.apply(temb)).unsqueeze(2).unsqueeze(3);
            h = h.add(t);
            h = conv2.forward(Activation.SILU.apply(norm2.forward(h)));
            Tensor shortcut = convShortcut != null ? convShortcut.forward(x) : x;
            Tensor out = shortcut.add(h);
            return outputScaleFactor == 1.0 ? out : out.div(new Scalar(outputScaleFactor));
        });
    }
}
