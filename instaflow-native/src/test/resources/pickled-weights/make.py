"""Writes state_dict.bin: the state dict of a 2x2 Linear saved with torch.save, which is what diffusers' and
transformers' pickled checkpoints (diffusion_pytorch_model.bin, pytorch_model.bin) are: a zip with an OrderedDict of
tensors. ComponentWeightsTest uses it to show why the SDK refuses pickled weights (LibTorch's unpickler does not
rebuild an OrderedDict) and notices when a LibTorch upgrade changes that. Run in the private torch 1.13 environment:

    source exporter/tests/private_env/env.sh && /usr/bin/python3 instaflow-native/src/test/resources/pickled-weights/make.py
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
torch.save(torch.nn.Linear(2, 2).state_dict(), os.path.join(HERE, "state_dict.bin"))
