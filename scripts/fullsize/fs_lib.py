"""Shared helpers of the full-size reference scripts (make_snapshots.py, reference_outputs.py, export_onnx.py).

* a streaming safetensors writer / reader (the documented layout: u64 little-endian header length, JSON header
  name -> {dtype, shape, data_offsets}, optional "__metadata__", then the raw little-endian tensor bytes; the
  header is padded with spaces to a multiple of 8). Tensors are written one at a time, so a 3.4 GB UNet never
  exists twice in memory (the private env's safetensors shim builds the whole file in memory first).
* diffusers' sharded-checkpoint layout (huggingface_hub's split_torch_state_dict_into_shards: greedy in
  state_dict order, ``{prefix}-00001-of-0000N.safetensors``, ``{prefix}.safetensors.index.json`` with
  ``{"metadata": {"total_size": N}, "weight_map": {...}}``, indent 2, sorted keys).
* building a diffusers / CLIP module without running its random init (for loading), peak-RSS bookkeeping,
  the raw-tensor + manifest writer of the reference folders, and the torch 1.13 baddbmm work-around.
"""

import contextlib
import hashlib
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import torch

SHARED_FIXTURES = os.environ.get("SHARED_FIXTURES", "/work/shared/fixtures")
TINY_SD21_SCRIPTS = os.path.join(SHARED_FIXTURES, "tiny-sd21", "scripts")
CLIP_DIR = os.path.join(SHARED_FIXTURES, "clip")
if TINY_SD21_SCRIPTS not in sys.path:
    sys.path.insert(0, TINY_SD21_SCRIPTS)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

_DT = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
       torch.uint8: "U8", torch.float64: "F64", torch.bool: "BOOL"}
_TD = {v: k for k, v in _DT.items()}
_NP = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "F64": np.float64}


def write_json(path, obj, sort_keys=False):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n")


# ------------------------------------------------------------------------------------------------------------
# safetensors
# ------------------------------------------------------------------------------------------------------------
def _nbytes(t):
    return t.numel() * t.element_size()


def save_safetensors(tensors, path, metadata=None, dtype=None):
    """Write ``tensors`` (name -> tensor) to ``path``, data in sorted-name order, one tensor at a time.
    ``dtype`` (e.g. torch.float16) converts floating-point tensors on the way. Returns the file size."""
    names = sorted(tensors)
    header, offset = {}, 0
    for n in names:
        t = tensors[n]
        dt = dtype if (dtype is not None and t.is_floating_point()) else t.dtype
        size = t.numel() * torch.empty((), dtype=dt).element_size()
        header[n] = {"dtype": _DT[dt], "shape": list(t.shape), "data_offsets": [offset, offset + size]}
        offset += size
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for n in names:
            t = tensors[n].detach().to("cpu")
            if dtype is not None and t.is_floating_point():
                t = t.to(dtype)
            t = t.contiguous()
            if t.numel():
                f.write(memoryview(t.view(torch.uint8).numpy()))  # x86: native = little-endian
            del t
    os.replace(tmp, path)
    return os.path.getsize(path)


def read_safetensors_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def load_safetensors(path):
    """Read every tensor of ``path`` into its own buffer (no whole-file copy). Returns an ordered dict."""
    header, base = read_safetensors_header(path)
    header.pop("__metadata__", None)
    out = {}
    with open(path, "rb") as f:
        for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            start, end = info["data_offsets"]
            t = torch.empty(info["shape"], dtype=_TD[info["dtype"]])
            if end > start:
                f.seek(base + start)
                buf = t.view(-1).view(torch.uint8).numpy() if t.dim() else t.reshape(1).view(torch.uint8).numpy()
                got = f.readinto(memoryview(buf))
                assert got == end - start, (path, name, got, end - start)
            out[name] = t
    return out


def save_sharded(state_dict, folder, prefix="diffusion_pytorch_model", max_shard_size=2_000_000_000,
                 metadata=None):
    """diffusers' / huggingface_hub's sharded safetensors layout (greedy, in state_dict order)."""
    shards, cur, cur_size, total = [], {}, 0, 0
    for k, t in state_dict.items():
        size = _nbytes(t)
        if size > max_shard_size:
            shards.append({k: t})
            total += size
            continue
        if cur_size + size > max_shard_size:
            shards.append(cur)
            cur, cur_size = {}, 0
        cur[k] = t
        cur_size += size
        total += size
    if cur:
        shards.append(cur)
    n = len(shards)
    assert n > 1, "not sharded: lower max_shard_size"
    weight_map, files = {}, []
    for i, shard in enumerate(shards):
        fname = f"{prefix}-{i + 1:05d}-of-{n:05d}.safetensors"
        save_safetensors(shard, os.path.join(folder, fname), metadata=metadata)
        files.append({"file": fname, "tensors": len(shard), "bytes": os.path.getsize(os.path.join(folder, fname))})
        for k in shard:
            weight_map[k] = fname
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with open(os.path.join(folder, prefix + ".safetensors.index.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return {"index": prefix + ".safetensors.index.json", "total_size": total, "shards": files,
            "max_shard_size": max_shard_size}


def load_component_weights(folder, prefix="diffusion_pytorch_model", variant=None):
    """The state dict of a diffusers component folder: single file, variant, or sharded index."""
    name = prefix + (f".{variant}" if variant else "") + ".safetensors"
    single = os.path.join(folder, name)
    index = os.path.join(folder, name + ".index.json")
    if os.path.exists(single):
        return load_safetensors(single), [name]
    with open(index) as f:
        idx = json.load(f)
    sd = {}
    files = sorted(set(idx["weight_map"].values()))
    for fn in files:
        part = load_safetensors(os.path.join(folder, fn))
        for k, v in part.items():
            assert idx["weight_map"].get(k) == fn, (k, fn)
            sd[k] = v
    assert set(sd) == set(idx["weight_map"]), "index and shards disagree"
    return sd, [os.path.basename(index)] + files


def component_weight_files(folder, prefix="diffusion_pytorch_model", variant=None):
    """The safetensors files of a diffusers component folder: the single file, or the shards of its index."""
    name = prefix + (f".{variant}" if variant else "") + ".safetensors"
    if os.path.exists(os.path.join(folder, name)):
        return [name], None
    with open(os.path.join(folder, name + ".index.json")) as f:
        idx = json.load(f)
    return sorted(set(idx["weight_map"].values())), idx


def load_into_module(module, folder, prefix="diffusion_pytorch_model", variant=None):
    """Reads a component's weights straight into ``module``'s parameters and buffers (no second copy of the
    model in memory), with load_state_dict(strict=True)'s checks: every key present once, no unexpected key,
    same shapes. Tensors stored in another dtype (the fp16 variant) are converted. Returns (files, dtypes)."""
    files, idx = component_weight_files(folder, prefix, variant)
    targets = module.state_dict(keep_vars=False)
    seen, dtypes = set(), set()
    for fn in files:
        path = os.path.join(folder, fn)
        header, base = read_safetensors_header(path)
        header.pop("__metadata__", None)
        with open(path, "rb") as f:
            for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
                if name not in targets:
                    raise KeyError(f"{fn}: unexpected key {name}")
                if name in seen:
                    raise KeyError(f"{fn}: {name} stored twice")
                if idx is not None and idx["weight_map"].get(name) != fn:
                    raise KeyError(f"{name}: in {fn}, index says {idx['weight_map'].get(name)}")
                seen.add(name)
                dst = targets[name]
                if list(dst.shape) != info["shape"]:
                    raise ValueError(f"{name}: shape {info['shape']} in the file, {list(dst.shape)} in the model")
                dt = _TD[info["dtype"]]
                dtypes.add(info["dtype"])
                start, end = info["data_offsets"]
                f.seek(base + start)
                tmp = dst if (dt == dst.dtype and dst.is_contiguous()) else torch.empty(info["shape"], dtype=dt)
                if end > start:
                    buf = tmp.reshape(-1).view(torch.uint8).numpy()
                    assert f.readinto(memoryview(buf)) == end - start, (fn, name)
                if tmp is not dst:
                    with torch.no_grad():
                        dst.copy_(tmp)
    missing = sorted(set(targets) - seen)
    if missing:
        raise KeyError(f"{folder}: missing {missing[:5]} ({len(missing)} keys)")
    return ([os.path.basename(prefix + ".safetensors.index.json")] if idx is not None else []) + files, sorted(dtypes)


# ------------------------------------------------------------------------------------------------------------
# construction without init (loading), weight edits
# ------------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def no_init():
    """Skip the random init of the standard layers while a module is constructed (its weights get loaded)."""
    classes = (torch.nn.Linear, torch.nn.Conv2d, torch.nn.GroupNorm, torch.nn.LayerNorm, torch.nn.Embedding)
    saved = [(c, c.reset_parameters) for c in classes]
    try:
        for c in classes:
            c.reset_parameters = lambda self: None
        yield
    finally:
        for c, f in saved:
            c.reset_parameters = f


def jitter_(module, seed, frac=0.1):
    """tiny-sd21's jitter (fixture_lib.jitter_): in sorted-name order, p += frac * rms(p) * N(0,1) (rms in float64;
    1 for an all-zero tensor), from torch.Generator().manual_seed(seed). Norm gammas leave 1, biases leave 0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(module.named_parameters(), key=lambda kv: kv[0]):
            n = torch.randn(p.shape, generator=g, dtype=torch.float32)
            rms = float(p.detach().double().pow(2).mean().sqrt())
            p.add_(n * (frac * (rms if rms > 0 else 1.0)))
            del n


def scale_weights(model, gain):
    """make_random_sd15_snapshot.py's gain: every Linear / Conv2d weight times ``gain``."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
                module.weight.mul_(gain)


class ActivationMeter:
    """Largest |output| of every named module during the forwards run while it is attached."""

    def __init__(self, model):
        self.maxima = {}
        self.handles = [m.register_forward_hook(self._hook(n)) for n, m in model.named_modules() if n]

    def _hook(self, name):
        def hook(module, inputs, output):
            if isinstance(output, (tuple, list)):
                output = output[0] if output else None
            output = getattr(output, "sample", output)
            if torch.is_tensor(output) and output.is_floating_point():
                v = output.detach().abs().max().item()
                self.maxima[name] = max(self.maxima.get(name, 0.0), v)
        return hook

    def close(self):
        for h in self.handles:
            h.remove()

    def top(self, n=3):
        return [[k, v] for k, v in sorted(self.maxima.items(), key=lambda kv: -kv[1])[:n]]


# ------------------------------------------------------------------------------------------------------------
# torch 1.13 baddbmm (see ../../shared fixtures tiny-sd21/README.md): zeroed output buffer for small beta=0 calls
# ------------------------------------------------------------------------------------------------------------
_torch_baddbmm = torch.baddbmm
BADDBMM_STATS = {"calls": 0, "patched_small_calls": 0, "smallest_KMN": None}


def _baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    kmn = batch1.shape[2] * batch1.shape[1] * batch2.shape[2]
    BADDBMM_STATS["calls"] += 1
    s = BADDBMM_STATS["smallest_KMN"]
    BADDBMM_STATS["smallest_KMN"] = kmn if s is None else min(s, kmn)
    if out is None and beta == 0 and kmn < 400:
        BADDBMM_STATS["patched_small_calls"] += 1
        out = torch.zeros((batch1.shape[0], batch1.shape[1], batch2.shape[2]), dtype=batch1.dtype)
    if out is None:
        return _torch_baddbmm(input, batch1, batch2, beta=beta, alpha=alpha)
    return _torch_baddbmm(input, batch1, batch2, beta=beta, alpha=alpha, out=out)


def patch_baddbmm():
    if torch.baddbmm is not _baddbmm:
        torch.baddbmm = _baddbmm


# ------------------------------------------------------------------------------------------------------------
# memory / time bookkeeping
# ------------------------------------------------------------------------------------------------------------
def _status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return None


def rss_bytes():
    return _status("VmRSS")


def reset_peak_rss():
    """Resets VmHWM (Linux: write 5 to clear_refs); returns False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes():
    return _status("VmHWM")


def process_peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Phase:
    """with Phase(record, "unet_forward"): ... -> record["unet_forward"] = {wall_s, peak_rss_bytes, ...}."""

    def __init__(self, record, name):
        self.record, self.name = record, name

    def __enter__(self):
        self.reset = reset_peak_rss()
        self.rss0 = rss_bytes()
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t0
        self.record[self.name] = {
            "wall_s": round(wall, 3), "cpu_s": round(time.process_time() - self.c0, 3),
            "rss_before_bytes": self.rss0, "rss_after_bytes": rss_bytes(),
            "peak_rss_bytes": peak_rss_bytes() if self.reset else None,
            "peak_rss_note": "VmHWM reset at the start of this phase" if self.reset else
                             "VmHWM could not be reset: see process_peak_rss_bytes"}
        print(f"  [{self.name}] {wall:.1f} s, peak RSS {(peak_rss_bytes() or 0) / 2**30:.2f} GiB", flush=True)
        return False


# ------------------------------------------------------------------------------------------------------------
# reference tensors: NAME.bin (raw little-endian, C order) + manifest.json
# ------------------------------------------------------------------------------------------------------------
class TensorWriter:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.entries = {}

    def add(self, name, t, note=None):
        a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
        a = np.ascontiguousarray(a)
        assert a.dtype in (np.float32, np.int64), (name, a.dtype)
        if a.dtype == np.float32 and not np.isfinite(a).all():
            raise RuntimeError(f"non-finite values in {name}")
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        raw = a.tobytes(order="C")
        with open(os.path.join(self.folder, name + ".bin"), "wb") as f:
            f.write(raw)
        e = {"file_raw": name + ".bin", "dtype": a.dtype.str, "shape": list(a.shape),
             "sha256_raw": hashlib.sha256(raw).hexdigest()}
        if a.dtype == np.float32:
            e.update(min=float(a.min()), max=float(a.max()), mean=float(a.mean()), std=float(a.std()))
        else:
            e.update(min=int(a.min()), max=int(a.max()))
        if note:
            e["note"] = note
        self.entries[name] = e
        return a

    def manifest(self, header, name="manifest.json"):
        m = dict(header)
        m["tensors"] = self.entries
        write_json(os.path.join(self.folder, name), m)
        return m


def f32hex(x):
    return "0x%08x" % struct.unpack("<I", struct.pack("<f", float(x)))[0]


def versions():
    import diffusers
    return {"python": sys.version.split()[0], "torch": torch.__version__, "diffusers": diffusers.__version__,
            "numpy": np.__version__, "torch_num_threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"), "blas": blas_library()}


def blas_library():
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "blas" in line.lower() and "/" in line})
        return [os.path.realpath(p) for p in libs]
    except OSError:
        return None
