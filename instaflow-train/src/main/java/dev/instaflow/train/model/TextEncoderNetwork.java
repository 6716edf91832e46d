package dev.instaflow.train.model;

import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import dev.instaflow.engine.runtime.Tensors;

import java.util.Arrays;

/**
 * The text encoder: CLIP token ids {@code int64 [B,77]} to {@code [B,77,D]}. It knows only the few ids the caption
 * vocabulary uses: a sorted buffer of those ids is searched ({@code torch.searchsorted}) and each id found gets its
 * own learned row; every other id shares one learned "unknown" row. A 3-wide convolution along the sequence then
 * lets each word see its neighbours (so "blue" followed by "background" differs from "blue" followed by a shape,
 * wherever in the prompt it stands), and the padding/end positions (id {@code padId}) are zeroed so that the
 * denoiser's sum over positions depends only on the words. 3 wide on purpose: no window of a caption spans both
 * colours, so a held-out colour pair is a new sum of windows seen in training.
 */
public final class TextEncoderNetwork {
    private TextEncoderNetwork() {
    }

    /**
     * @param knownIds ids with their own embedding row (any order; duplicates are removed)
     * @param padId    the id after the prompt (CLIP's 49407, also its end id), whose positions are zeroed
     */
    public static ScriptModuleBuilder build(ModelConfig config, long[] knownIds, long padId, long seed) {
        long[] sorted = Arrays.stream(knownIds).distinct().sorted().toArray();
        int d = config.textWidth();
        Init init = new Init(seed);
        return new ScriptModuleBuilder("ShapesTextEncoder")
                .buffer("known_ids", Tensors.fromLongs(sorted, sorted.length))
                .parameter("table", init.normal(1.0, 1, sorted.length + 1, d).requires_grad_(true))
                .parameter("ctx_w", init.normal(1.0, 3L * d, 2L * d, d, 3).requires_grad_(true))
                .parameter("ctx_b", Init.zeros(2L * d).requires_grad_(true))
                .parameter("out_w", init.normal(0.5, 2L * d, 2L * d, d).requires_grad_(true))
                .parameter("out_b", Init.zeros(d).requires_grad_(true))
                .define("def forward(self, input_ids: Tensor) -> Tensor:\n"
                        + "    last = self.known_ids.size(0) - 1\n"
                        + "    pos = torch.clamp(torch.searchsorted(self.known_ids, input_ids), 0, last)\n"
                        + "    found = torch.eq(torch.take(self.known_ids, pos), input_ids)\n"
                        + "    rows = torch.where(found, pos + 1, torch.zeros_like(pos))\n"
                        + "    e = torch.embedding(self.table, rows)\n"
                        + "    c = torch.conv1d(e.transpose(1, 2), self.ctx_w, self.ctx_b, [1], [1], [1], 1)\n"
                        + "    h = e + torch.matmul(torch.gelu(c).transpose(1, 2), self.out_w) + self.out_b\n"
                        + "    keep = torch.ne(input_ids, " + padId + ").unsqueeze(2).to(h.dtype)\n"
                        + "    return h * keep\n");
    }
}
