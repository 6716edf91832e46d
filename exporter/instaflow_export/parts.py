"""The three bundle parts as small modules whose ``forward`` has exactly the SDK's signature.

The SDK calls each TorchScript part positionally with plain tensors and takes a plain tensor back
(``docs/bundle-format.md``):

* text encoder: ``input_ids int64 [B, L] -> last_hidden_state [B, L, D]`` (after the final layer norm),
* denoiser: ``(sample [B, C, h, w], timestep float32 [B], encoder_hidden_states [B, L, D]) -> [B, C, h, w]``,
* VAE decoder: ``z [B, C, h, w] -> image [B, 3, f h, f w]``, z already divided by the scaling factor; the part
  includes ``post_quant_conv``.
"""

import torch
from torch import nn

from . import sdk_defaults

# The files of the three parts the exporter traces, named by the SDK's manifest-defaults.json (sdk_defaults).
PART_FILES = {part: sdk_defaults.PART_FILES[part] for part in ("text_encoder", "denoiser", "vae_decoder")}


class TextEncoderPart(nn.Module):
    def __init__(self, text_encoder):
        super().__init__()
        self.text_encoder = text_encoder

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        # No attention mask: InstaFlow's pipeline passes none (the SD 1.5 config has no use_attention_mask), so pad
        # positions are encoded and the UNet attends to them. Element 0 is last_hidden_state in every
        # transformers version (tuple or ModelOutput).
        return self.text_encoder(input_ids)[0]


class DenoiserPart(nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        # The timestep stays float32 whatever the model's dtype (as InstaFlow's pipeline feeds it): diffusers casts
        # the time embedding to the sample's dtype itself.
        return self.unet(sample, timestep, encoder_hidden_states, return_dict=False)[0]


class VaeDecoderPart(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # AutoencoderKL.decode applies post_quant_conv, then the decoder.
        return self.vae.decode(z, return_dict=False)[0]
