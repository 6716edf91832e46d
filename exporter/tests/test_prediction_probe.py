"""The prediction probe: a UNet trained to predict its input noise (what plain Stable Diffusion does at t = 1000)
is refused under a velocity preset, and one trained to predict minus the noise (as a rectified-flow velocity does)
is refused under the epsilon preset. The tiny fixture's random UNet is inconclusive and passes."""

import os
import unittest

import support


def train_tiny_unet(target_sign: float, folder: str, steps: int = 12):
    """Fine-tunes the tiny fixture UNet so that at t = 1000 its output is target_sign * input, and saves it."""
    import torch
    from diffusers import UNet2DConditionModel
    unet = UNet2DConditionModel.from_pretrained(support.tiny_model(), subfolder="unet", low_cpu_mem_usage=False)
    g = torch.Generator().manual_seed(0)
    text = torch.randn((1, 77, 32), generator=g)
    optimizer = torch.optim.Adam(unet.parameters(), lr=2e-3)
    for _ in range(steps):
        z = torch.randn((4, 4, 16, 16), generator=g)
        out = unet(z, torch.full((4,), 1000.0), text.expand(4, -1, -1)).sample
        loss = ((out - target_sign * z) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    unet.save_pretrained(folder)


class ProbeVerdicts(unittest.TestCase):
    def test_thresholds(self):
        from instaflow_export.prediction_probe import ProbeResult
        self.assertEqual(ProbeResult(0.97).verdict, "epsilon")
        self.assertEqual(ProbeResult(-0.7).verdict, "velocity")
        self.assertEqual(ProbeResult(0.1).verdict, "inconclusive")
        self.assertEqual(ProbeResult(float("nan")).verdict, "inconclusive")


class ProbeOnTrainedUnets(support.TempDirTestCase):
    def snapshot_with_trained_unet(self, name, sign):
        snapshot = support.derived_snapshot(self.tmp, name)
        os.unlink(os.path.join(snapshot, "unet"))
        train_tiny_unet(sign, os.path.join(snapshot, "unet"))
        return snapshot

    def test_a_noise_predicting_unet_is_refused_under_a_velocity_preset(self):
        snapshot = self.snapshot_with_trained_unet("epsilon-like", +1.0)
        out_dir = os.path.join(self.tmp, "epsilon-bundle")
        code, out, err = support.run_cli(snapshot, out_dir, "--preset", "instaflow", "--device", "cpu")
        self.assertEqual(code, 1)
        self.assertIn("behaves like a noise (epsilon) predictor", err)
        self.assertIn("plain Stable Diffusion", err)
        self.assertIn("--skip-prediction-check", err)
        self.assertFalse(os.path.exists(out_dir))
        self.assertEqual(self.leftovers(self.tmp), [])

        code, out, err = support.run_cli(snapshot, out_dir, "--preset", "instaflow", "--device", "cpu", "--quiet",
                                         "--skip-prediction-check")
        self.assertEqual(code, 0, err)
        import json
        with open(os.path.join(out_dir, "manifest.json")) as f:
            probe = json.load(f)["provenance"]["prediction_probe"]
        self.assertIn("(epsilon) [check skipped]", probe)

    def test_a_velocity_like_unet_is_refused_under_the_epsilon_preset(self):
        snapshot = self.snapshot_with_trained_unet("velocity-like", -1.0)
        out_dir = os.path.join(self.tmp, "velocity-bundle")
        code, out, err = support.run_cli(snapshot, out_dir, "--preset", "swiftbrush", "--device", "cpu")
        self.assertEqual(code, 1)
        self.assertIn("behaves like a rectified-flow velocity model", err)
        self.assertIn("--preset instaflow", err)
        self.assertFalse(os.path.exists(out_dir))

    def test_the_random_fixture_unet_is_inconclusive(self):
        out_dir = os.path.join(self.tmp, "random-bundle")
        code, out, err = support.run_cli(support.tiny_model(), out_dir, "--preset", "swiftbrush", "--device", "cpu")
        self.assertEqual(code, 0, err)
        self.assertIn("(inconclusive; preset swiftbrush expects epsilon)", out)


if __name__ == "__main__":
    unittest.main()
