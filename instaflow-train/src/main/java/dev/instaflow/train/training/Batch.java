package dev.instaflow.train.training;

import org.bytedeco.pytorch.Tensor;

/**
 * One training batch of a flow between noise and images.
 *
 * @param x0  noise latents {@code [B,C,h,w]} (paper time s = 0)
 * @param x1  image latents {@code [B,C,h,w]} (s = 1): data for 1-RF, the teacher's ODE end point for reflow and
 *            distillation
 * @param ids framed token ids {@code int64 [B,L]} (the empty prompt where a caption was dropped)
 */
public record Batch(Tensor x0, Tensor x1, Tensor ids) {
}
