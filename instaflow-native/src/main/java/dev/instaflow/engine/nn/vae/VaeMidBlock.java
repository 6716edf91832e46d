package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.Weights;

/**
 * diffusers' {@code UNetMidBlock2D} as the VAE's Encoder and Decoder build it (one layer, no time embedding):
 * {@code resnets.0 → attentions.0 → resnets.1}, the attention left out when {@code mid_block_add_attention} is false.
 */
final class VaeMidBlock {
    private final VaeResnetBlock first;
    private final VaeAttention attention;
    private final VaeResnetBlock second;

    private VaeMidBlock(VaeResnetBlock first, VaeAttention attention, VaeResnetBlock second) {
        this.first = first;
        this.attention = attention;
        this.second = second;
    }

    static VaeMidBlock load(Weights w, VaeConfig c, long channels) {
        Weights resnets = w.at("resnets");
        VaeResnetBlock first = VaeResnetBlock.load(resnets.at("0"), channels, channels, c.normGroups(),
                c.activation());
        VaeAttention attention = c.midBlockAddAttention()
                ? VaeAttention.load(w.at("attentions").at("0"), channels, c.normGroups()) : null;
        VaeResnetBlock second = VaeResnetBlock.load(resnets.at("1"), channels, channels, c.normGroups(),
                c.activation());
        return new VaeMidBlock(first, attention, second);
    }

    void forward(ActivationChain chain) {
        chain.then(first::forward);
        if (attention != null) {
            chain.then(attention::forward);
        }
        chain.then(second::forward);
    }
}
