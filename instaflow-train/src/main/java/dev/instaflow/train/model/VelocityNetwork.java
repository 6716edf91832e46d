package dev.instaflow.train.model;

import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The velocity network (the bundle's denoiser): {@code (sample [B,C,h,w], timestep float32 [B], text [B,77,D]) ->
 * velocity [B,C,h,w]}, with {@code timestep = 1000 (1 - s)} as the SDK feeds it. A stack of residual blocks at
 * latent resolution (3x3 convolutions, group norm, SiLU), each modulated (FiLM: scale and shift per channel) by a
 * small network of the sinusoidal timestep embedding and the sum of the text embedding over positions. The
 * conditioning is global because everything the captions say (two colours and a shape) is global; where the shape
 * goes is the noise's to decide. A self-attention layer in the middle of the stack lets every latent cell see the
 * whole image, so the cells of one shape agree on its outline. No position embedding, so any latent size runs (the SDK probes 1 x 1).
 *
 * <p>With {@link ModelConfig#predictsImage()} the last layer predicts the clean image {@code x1} and the part
 * returns {@code (x1_hat - x_s) / (1 - s)}: the same velocity to the SDK and to the loss, but the network outputs a
 * point near the (low-dimensional) image manifold instead of noise-like velocities, which matters for
 * pixel-space patches (Li and He 2025, "Back to Basics: Let Denoising Generative Models Denoise").
 */
public final class VelocityNetwork {
    /**
     * Smallest {@code 1 - s} the image parametrisation divides by: 1/25, so a 25-step Euler solve (the pairs' and
     * the evaluation's) lands exactly on the predicted image at its last step.
     */
    static final double MIN_REMAINING = 0.04;

    private VelocityNetwork() {
    }

    /** Multi-head self-attention over the latent cells, pre-norm, residual, output projection started small. */
    private static void attention(ScriptModuleBuilder b, StringBuilder src, Init init, ModelConfig config) {
        int c = config.channels();
        int heads = config.attentionHeads();
        int d = c / heads;
        b.parameter("att_n_w", Init.ones(c).requires_grad_(true))
                .parameter("att_n_b", Init.zeros(c).requires_grad_(true))
                .parameter("att_qkv_w", init.normal(1.0, c, c, 3L * c).requires_grad_(true))
                .parameter("att_qkv_b", Init.zeros(3L * c).requires_grad_(true))
                .parameter("att_out_w", init.normal(0.1, c, c, c).requires_grad_(true))
                .parameter("att_out_b", Init.zeros(c).requires_grad_(true));
        src.append("    n = h.size(0)\n")
                .append("    hh = h.size(2)\n")
                .append("    ww = h.size(3)\n")
                .append("    y = torch.group_norm(h, ").append(config.groups())
                .append(", self.att_n_w, self.att_n_b, 1e-5, False)\n")
                .append("    y = y.flatten(2).transpose(1, 2)\n")
                .append("    qkv = torch.matmul(y, self.att_qkv_w) + self.att_qkv_b\n")
                .append("    qkv = qkv.reshape(n, hh * ww, 3, ").append(heads).append(", ").append(d)
                .append(").permute(2, 0, 3, 1, 4)\n")
                .append("    weights = torch.softmax(torch.matmul(qkv[0], qkv[1].transpose(2, 3)) * ")
                .append(1.0 / Math.sqrt(d)).append(", 3)\n")
                .append("    y = torch.matmul(weights, qkv[2]).permute(0, 2, 1, 3).reshape(n, hh * ww, ").append(c)
                .append(")\n")
                .append("    y = torch.matmul(y, self.att_out_w) + self.att_out_b\n")
                .append("    h = h + y.transpose(1, 2).reshape(n, ").append(c).append(", hh, ww)\n");
    }

    public static ScriptModuleBuilder build(ModelConfig config, long seed) {
        Init init = new Init(seed);
        int c = config.channels();
        int lat = config.latentChannels();
        int f = config.timeFrequencies();
        int condIn = 2 * f + config.textWidth();
        int film = config.blocks() * 2 * c;
        // Frequencies 1 .. 1/1000 over the timestep 0..1000 (transformer-style).
        Tensor freqs = torch.exp(torch.arange(new Scalar(0), new Scalar(f)).to(ScalarType.Float)
                .mul(new Scalar(-Math.log(1000.0) / Math.max(1, f - 1))));
        ScriptModuleBuilder b = new ScriptModuleBuilder("ShapesVelocityNet")
                .buffer("freqs", freqs)
                .parameter("cond_w1", init.normal(1.0, condIn, condIn, config.condHidden()).requires_grad_(true))
                .parameter("cond_b1", Init.zeros(config.condHidden()).requires_grad_(true))
                .parameter("cond_w2", init.normal(0.1, config.condHidden(), config.condHidden(), film)
                        .requires_grad_(true))
                .parameter("cond_b2", Init.zeros(film).requires_grad_(true))
                .parameter("in_w", init.normal(1.0, 9L * lat, c, lat, 3, 3).requires_grad_(true))
                .parameter("in_b", Init.zeros(c).requires_grad_(true));
        StringBuilder src = new StringBuilder()
                .append("def forward(self, sample: Tensor, timestep: Tensor, encoder_hidden_states: Tensor)")
                .append(" -> Tensor:\n")
                .append("    args = timestep.to(sample.dtype)[:, None] * self.freqs[None, :]\n")
                .append("    temb = torch.cat([torch.cos(args), torch.sin(args)], 1)\n")
                .append("    text = torch.sum(encoder_hidden_states, 1).to(sample.dtype)\n")
                .append("    cond = torch.silu(torch.matmul(torch.cat([temb, text], 1), self.cond_w1) + self.cond_b1)\n")
                .append("    film = torch.matmul(cond, self.cond_w2) + self.cond_b2\n")
                .append("    h = torch.conv2d(sample, self.in_w, self.in_b, [1, 1], [1, 1])\n");
        int g = config.groups();
        for (int i = 0; i < config.blocks(); i++) {
            if (config.attentionHeads() > 0 && i == config.blocks() / 2) {
                attention(b, src, init, config);
            }
            String p = "self.b" + i + "_";
            b.parameter("b" + i + "_n1_w", Init.ones(c).requires_grad_(true))
                    .parameter("b" + i + "_n1_b", Init.zeros(c).requires_grad_(true))
                    .parameter("b" + i + "_c1_w", init.normal(Math.sqrt(2), 9L * c, c, c, 3, 3).requires_grad_(true))
                    .parameter("b" + i + "_c1_b", Init.zeros(c).requires_grad_(true))
                    .parameter("b" + i + "_n2_w", Init.ones(c).requires_grad_(true))
                    .parameter("b" + i + "_n2_b", Init.zeros(c).requires_grad_(true))
                    .parameter("b" + i + "_c2_w", init.normal(0.1, 9L * c, c, c, 3, 3).requires_grad_(true))
                    .parameter("b" + i + "_c2_b", Init.zeros(c).requires_grad_(true));
            int at = i * 2 * c;
            src.append("    scale = film[:, ").append(at).append(":").append(at + c).append("][:, :, None, None]\n")
                    .append("    shift = film[:, ").append(at + c).append(":").append(at + 2 * c)
                    .append("][:, :, None, None]\n")
                    .append("    y = torch.group_norm(h, ").append(g).append(", ").append(p).append("n1_w, ")
                    .append(p).append("n1_b, 1e-5, False)\n")
                    .append("    y = torch.silu(y * (1.0 + scale) + shift)\n")
                    .append("    y = torch.conv2d(y, ").append(p).append("c1_w, ").append(p)
                    .append("c1_b, [1, 1], [1, 1])\n")
                    .append("    y = torch.silu(torch.group_norm(y, ").append(g).append(", ").append(p)
                    .append("n2_w, ").append(p).append("n2_b, 1e-5, False))\n")
                    .append("    h = h + torch.conv2d(y, ").append(p).append("c2_w, ").append(p)
                    .append("c2_b, [1, 1], [1, 1])\n");
        }
        b.parameter("out_n_w", Init.ones(c).requires_grad_(true))
                .parameter("out_n_b", Init.zeros(c).requires_grad_(true))
                .parameter("out_w", init.normal(0.1, 9L * c, lat, c, 3, 3).requires_grad_(true))
                .parameter("out_b", Init.zeros(lat).requires_grad_(true));
        src.append("    y = torch.silu(torch.group_norm(h, ").append(g)
                .append(", self.out_n_w, self.out_n_b, 1e-5, False))\n")
                .append("    out = torch.conv2d(y, self.out_w, self.out_b, [1, 1], [1, 1])\n");
        if (config.predictsImage()) {
            // v = (x1_hat - x_s) / (1 - s), and 1 - s = timestep / 1000; the clamp keeps the last steps finite.
            src.append("    remaining = torch.clamp(timestep.to(sample.dtype) / 1000.0, ").append(MIN_REMAINING)
                    .append(", 1.0)[:, None, None, None]\n")
                    .append("    return (out - sample) / remaining\n");
        } else {
            src.append("    return out\n");
        }
        return b.define(src.toString());
    }
}
