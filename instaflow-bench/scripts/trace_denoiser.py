"""Trace only the denoiser part (the exporter's DenoiserPart, same tracing call) of a snapshot's UNet at [1,4,size,size] (argv 3, default 64)."""
import sys, time, json, torch
from diffusers import UNet2DConditionModel
from instaflow_export.parts import DenoiserPart
from instaflow_export.tracing import trace_part
snap, out = sys.argv[1], sys.argv[2]
size = int(sys.argv[3]) if len(sys.argv) > 3 else 64
t0 = time.time()
unet = UNet2DConditionModel.from_pretrained(snap + "/unet", torch_dtype=torch.float32).eval()
t1 = time.time(); print(f"loaded {t1-t0:.1f}s", flush=True)
hidden = unet.config.cross_attention_dim
ex = (torch.randn(1, 4, size, size, generator=torch.Generator().manual_seed(1)), torch.tensor([999.0]),
      torch.randn(1, 77, hidden, generator=torch.Generator().manual_seed(2)))
traced = trace_part(DenoiserPart(unet).eval(), ex, freeze=False)
t2 = time.time(); print(f"traced {t2-t1:.1f}s", flush=True)
torch.jit.save(traced, out + "/denoiser.pt")
print(f"saved {time.time()-t2:.1f}s", flush=True)
json.dump({"snapshot": snap, "torch": torch.__version__, "example": [list(e.shape) for e in ex],
           "trace_s": t2 - t1, "note": "exporter's DenoiserPart + trace_part(freeze=False) only; not a full bundle"},
          open(out + "/trace_info.json", "w"), indent=1)
