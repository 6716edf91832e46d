"""What a diffusers snapshot cannot say about itself: what its UNet predicts and how it is meant to be sampled.

A diffusers folder of InstaFlow-0.9B or 2-Rectified Flow ships Stable Diffusion 1.5's PNDM scheduler config with
``prediction_type: "epsilon"``, although its UNet predicts a rectified-flow velocity. Nothing in the snapshot tells
the two apart, so the user names the model family with ``--preset`` and the exporter writes the matching
``prediction`` and ``sampling`` sections of the manifest. The constants come from the reference code
(``shared/docs/inference-spec.md``): InstaFlow's ``pipeline_rf.py`` feeds ``t = 1000 (1 - s)``; SwiftBrush's
``infer.py`` feeds ``t = 999`` and uses ``alpha_bar = 0.0047``.
"""

from dataclasses import dataclass
from typing import Dict, Optional


@dataclass(frozen=True)
class Preset:
    name: str
    family: str
    # "velocity" (rectified flow, x_{s+ds} = x_s + ds * v) or "epsilon" (one step from t = timestep)
    prediction: str
    time_scale: Optional[float]  # velocity: the UNet sees time_scale * (1 - s)
    timestep: Optional[float]  # epsilon: the fixed timestep
    alpha_bar: Optional[float]  # epsilon: cumulative alpha used for x0
    steps: int  # default sampler steps
    guidance: float  # default guidance scale (guidance runs only above 1)
    selftest_guidance: float  # guidance of the stored self-test (1 step)
    description: str

    def prediction_section(self) -> Dict[str, object]:
        if self.prediction == "velocity":
            return {"type": "velocity", "time_scale": self.time_scale}
        return {"type": "epsilon", "timestep": self.timestep, "alpha_bar": self.alpha_bar}


PRESETS: Dict[str, Preset] = {
    "instaflow": Preset(
        name="instaflow", family="instaflow", prediction="velocity", time_scale=1000.0, timestep=None,
        alpha_bar=None, steps=1, guidance=0.0, selftest_guidance=0.0,
        description="InstaFlow (one-step rectified flow): 1 step, no guidance, no negative prompt"),
    "rectified-flow": Preset(
        name="rectified-flow", family="rectified-flow", prediction="velocity", time_scale=1000.0, timestep=None,
        alpha_bar=None, steps=4, guidance=1.5, selftest_guidance=1.5,
        description="2-Rectified Flow: Euler, 2-8 steps, guidance 1-2"),
    "swiftbrush": Preset(
        name="swiftbrush", family="swiftbrush", prediction="epsilon", time_scale=None, timestep=999.0,
        alpha_bar=0.0047, steps=1, guidance=0.0, selftest_guidance=0.0,
        description="SwiftBrush (one-step, noise prediction at t = 999, SD 2.1-base)"),
}

MISSING_PRESET_MESSAGE = (
    "--preset is required: a diffusers snapshot does not record whether its UNet predicts a rectified-flow "
    "velocity or noise. InstaFlow-0.9B and 2-Rectified Flow ship Stable Diffusion 1.5's scheduler config "
    "(PNDMScheduler, prediction_type \"epsilon\") although their UNets predict velocities, so the exporter cannot "
    "read it from the files. Choose one of: --preset instaflow (XCLiu/instaflow_0_9B_from_sd_1_5: 1 step, "
    "guidance 0), --preset rectified-flow (XCLiu/2_rectified_flow_from_sd_1_5: 2-8 steps, guidance 1-2), "
    "--preset swiftbrush (thuanz123/swiftbrush: noise prediction, 1 step). A plain Stable Diffusion snapshot "
    "(a noise predictor made for 25-50 scheduler steps) is none of these and cannot be exported.")
