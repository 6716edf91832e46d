"""`safetensors.torch` for the shim: read and write safetensors files with torch tensors (see __init__)."""

import json
import os
import struct
from collections import OrderedDict

import torch

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def _read_header(data):
    if len(data) < 8:
        raise ValueError("not a safetensors file: shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError("not a safetensors file: header length %d exceeds the file" % n)
    header = json.loads(data[8:8 + n].decode("utf-8"))
    return header, 8 + n


def _tensor(data, base, info):
    dtype = _DTYPES[info["dtype"]]
    start, end = info["data_offsets"]
    raw = bytearray(data[base + start:base + end])
    flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
    return flat.reshape(info["shape"]).clone()


class safe_open:  # noqa: N801 (the real API's name)
    def __init__(self, filename, framework="pt", device="cpu"):
        with open(filename, "rb") as f:
            self._data = f.read()
        self._header, self._base = _read_header(self._data)
        self._meta = self._header.pop("__metadata__", None)
        self._device = device

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def keys(self):
        return list(self._header.keys())

    def metadata(self):
        return self._meta

    def get_tensor(self, name):
        return _tensor(self._data, self._base, self._header[name]).to(self._device)


def load(data):
    header, base = _read_header(data)
    header.pop("__metadata__", None)
    return OrderedDict((k, _tensor(data, base, v)) for k, v in header.items())


def load_file(filename, device="cpu"):
    with open(filename, "rb") as f:
        tensors = load(f.read())
    return OrderedDict((k, v.to(device)) for k, v in tensors.items())


def save(tensors, metadata=None):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def save_file(tensors, filename, metadata=None):
    tmp = str(filename) + ".tmp"
    with open(tmp, "wb") as f:
        f.write(save(tensors, metadata))
    os.replace(tmp, filename)


def storage_ptr(tensor):
    """Address of the tensor's storage (transformers uses it to find tied weights)."""
    try:
        return tensor.untyped_storage().data_ptr()
    except (AttributeError, NotImplementedError):
        return tensor.storage().data_ptr()


def storage_size(tensor):
    """Bytes of the tensor's storage."""
    try:
        return tensor.untyped_storage().nbytes()
    except (AttributeError, NotImplementedError):
        return tensor.storage().size() * tensor.element_size()
