package dev.instaflow.engine.text;

import org.bytedeco.pytorch.Tensor;

/**
 * The text condition of one generation, laid out as the denoiser takes it.
 *
 * @param text     {@code [B,L,D]} positive embeddings, or {@code [2B,L,D]} as {@code [negative; positive]} when
 *                 guided (diffusers' order: unconditional first)
 * @param batch    B, the number of images
 * @param guided   whether classifier-free guidance runs
 * @param guidance the guidance scale w in {@code u + w (c - u)}
 */
public record Conditioning(Tensor text, int batch, boolean guided, double guidance) {
}
