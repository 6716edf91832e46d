/**
 * diffusers' {@code UNet2DConditionModel} for Stable Diffusion 1.x and 2.x, built in Java from LibTorch ops on the
 * safetensors weights of a diffusers {@code unet/} folder ({@link dev.instaflow.engine.nn.unet.UNetConfig} reads its
 * {@code config.json}, {@link dev.instaflow.engine.nn.unet.UNet2DConditionModel#build} takes every tensor by its
 * diffusers key). The classes mirror diffusers' modules of the same names ({@code ResnetBlock2D},
 * {@code Downsample2D}, {@code Upsample2D}, {@code Transformer2DModel}, {@code BasicTransformerBlock},
 * {@code Attention} as {@code CrossAttention}, {@code TimestepEmbedding}; {@code DownBlock}, {@code MidBlock} and
 * {@code UpBlock} cover {@code CrossAttnDownBlock2D}/{@code DownBlock2D}, {@code UNetMidBlock2DCrossAttn} and
 * {@code CrossAttnUpBlock2D}/{@code UpBlock2D}). Checked against diffusers 0.21.4 on the tiny-sd15 (1x1-conv
 * projections, one head count) and tiny-sd21 (linear projections, per-block head counts) fixtures.
 */
package dev.instaflow.engine.nn.unet;
