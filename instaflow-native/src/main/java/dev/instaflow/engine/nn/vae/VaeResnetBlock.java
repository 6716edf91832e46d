package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.Activation;
import dev.instaflow.engine.nn.Conv2d;
import dev.instaflow.engine.nn.GroupNorm;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * diffusers' {@code ResnetBlock2D} as the VAE uses it: no time embedding, pre-norm, dropout 0, output scale 1:
 * {@code shortcut(x) + conv2(act(norm2(conv1(act(norm1(x))))))}, where the shortcut is a 1×1 {@code conv_shortcut}
 * when the channel count changes and the identity otherwise.
 */
final class VaeResnetBlock {
    /** The epsilon of every VAE GroupNorm ({@code resnet_eps=1e-6} in diffusers' Encoder and Decoder). */
    static final double EPS = 1e-6;

    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d shortcut;
    private final Activation act;

    private VaeResnetBlock(GroupNorm norm1, Conv2d conv1, GroupNorm norm2, Conv2d conv2, Conv2d shortcut,
                           Activation act) {
        this.norm1 = norm1;
        this.conv1 = conv1;
        this.norm2 = norm2;
        this.conv2 = conv2;
        this.shortcut = shortcut;
        this.act = act;
    }

    /** Takes {@code norm1, conv1, norm2, conv2} and, when {@code in != out}, {@code conv_shortcut} from {@code w}. */
    static VaeResnetBlock load(Weights w, long in, long out, long groups, Activation act) {
        GroupNorm norm1 = GroupNorm.load(w.at("norm1"), groups, in, EPS);
        Conv2d conv1 = Conv2d.load(w.at("conv1"), in, out, 3, 1, 1);
        GroupNorm norm2 = GroupNorm.load(w.at("norm2"), groups, out, EPS);
        Conv2d conv2 = Conv2d.load(w.at("conv2"), out, out, 3, 1, 1);
        Conv2d shortcut = in != out ? Conv2d.load(w.at("conv_shortcut"), in, out, 1, 1, 0) : null;
        return new VaeResnetBlock(norm1, conv1, norm2, conv2, shortcut, act);
    }

    /**
     * Run as one stage of an {@link ActivationChain}. The main path is itself a chain, so that each intermediate is
     * freed as soon as the next op has read it (and its memory is reused by the next allocation) instead of at the
     * end of the block; the activations run in place.
     */
    Tensor forward(Tensor x) {
        ActivationChain main = new ActivationChain(x, VaeTap.NONE);
        main.then(t -> activate(norm1.forward(t))).then(conv1::forward).then(t -> activate(norm2.forward(t)))
                .then(conv2::forward);
        Tensor h = main.result();
        // an in-place op returns another Java object for the same C++ tensor (a reference): keep the owning one
        h.add_(shortcut == null ? x : shortcut.forward(x));
        return h;
    }

    private Tensor activate(Tensor t) {
        if (act == Activation.SILU) {
            torch.silu_(t);
            return t;
        }
        return act.apply(t);
    }
}
