package dev.instaflow.engine.nn.vae;

import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.nn.Attention;
import dev.instaflow.engine.nn.GroupNorm;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The VAE mid block's self-attention (diffusers' {@code Attention} with {@code _from_deprecated_attn_block}): one head
 * as wide as the channels, over the {@code H·W} positions: {@code x + to_out(attend(q, k, v))} with
 * {@code q, k, v = to_q/to_k/to_v(group_norm(x))} on {@code [B, HW, C]}, output rescale 1.
 *
 * <p>Checkpoints saved before diffusers 0.14 name the projections {@code query, key, value, proj_attn}; they are read
 * under those names as diffusers' {@code _convert_deprecated_attention_blocks} does. Projection weights stored as
 * 1×1 convolutions ({@code [C, C, 1, 1]}, as some conversions of original checkpoints write them) are accepted too.
 */
final class VaeAttention {
    private final GroupNorm norm;
    private final Projection q;
    private final Projection k;
    private final Projection v;
    private final Projection out;

    private VaeAttention(GroupNorm norm, Projection q, Projection k, Projection v, Projection out) {
        this.norm = norm;
        this.q = q;
        this.k = k;
        this.v = v;
        this.out = out;
    }

    static VaeAttention load(Weights w, long channels, long groups) {
        GroupNorm norm = GroupNorm.load(w.at("group_norm"), groups, channels, VaeResnetBlock.EPS);
        return new VaeAttention(norm,
                Projection.load(w, "to_q", "query", channels),
                Projection.load(w, "to_k", "key", channels),
                Projection.load(w, "to_v", "value", channels),
                Projection.load(w, "to_out.0", "proj_attn", channels));
    }

    /** {@code [B, C, H, W]} to the same shape; run as one stage of an {@link ActivationChain}. */
    Tensor forward(Tensor x) {
        long[] s = x.sizes().vec().get();
        // group_norm over [B, C, HW] (as diffusers applies it) equals group_norm over [B, C, H, W]
        Tensor tokens = norm.forward(x).view(s[0], s[1], s[2] * s[3]).transpose(1, 2);
        Tensor attended = Attention.attend(q.forward(tokens), k.forward(tokens), v.forward(tokens), 1, false);
        Tensor projected = out.forward(attended).transpose(1, 2).reshape(s[0], s[1], s[2], s[3]);
        return projected.add(x);
    }

    /** A {@code [C] → [C]} linear with bias, stored as a linear or as a 1×1 convolution, under either name. */
    private record Projection(Tensor weight, Tensor bias, boolean convShaped, long channels) {
        static Projection load(Weights w, String name, String deprecatedName, long channels) {
            String stored = !w.contains(name + ".weight") && w.contains(deprecatedName + ".weight")
                    ? deprecatedName : name;
            Weights p = w.at(stored);
            Tensor weight;
            boolean conv = false;
            try {
                weight = p.take("weight", channels, channels);
            } catch (InvalidModelException asLinear) {
                if (!p.contains("weight")) {
                    throw asLinear;
                }
                try {
                    weight = p.take("weight", channels, channels, 1, 1);
                    conv = true;
                } catch (InvalidModelException asConv) {
                    throw asLinear;
                }
            }
            return new Projection(weight, p.take("bias", channels), conv, channels);
        }

        Tensor forward(Tensor x) {
            Tensor w = convShaped ? weight.view(channels, channels) : weight;
            return torch.linear(x, w, new TensorOptional(bias));
        }
    }
}
