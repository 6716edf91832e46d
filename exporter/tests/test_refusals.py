"""What the exporter refuses, and what it must accept silently; a refusal never leaves files behind."""

import json
import os
import unittest
from unittest import mock

import support


class Refusals(support.TempDirTestCase):
    def export(self, snapshot, name, *extra):
        out_dir = os.path.join(self.tmp, name)
        code, out, err = support.run_cli(snapshot, out_dir, *extra)
        return code, out_dir, err

    def assertNothingWritten(self, out_dir):
        self.assertFalse(os.path.exists(out_dir), f"{out_dir} was written")
        self.assertEqual(self.leftovers(os.path.dirname(out_dir)), [])

    def test_preset_is_required_and_the_message_says_why(self):
        code, out_dir, err = self.export(support.tiny_model(), "no-preset")
        self.assertEqual(code, 2)
        self.assertIn("--preset is required", err)
        self.assertIn("prediction_type \"epsilon\"", err)
        self.assertIn("--preset instaflow", err)
        self.assertNothingWritten(out_dir)

    def test_a_non_empty_out_dir_is_not_overwritten(self):
        out_dir = os.path.join(self.tmp, "occupied")
        os.makedirs(out_dir)
        with open(os.path.join(out_dir, "keep.txt"), "w") as f:
            f.write("mine")
        code, out, err = support.run_cli(support.tiny_model(), out_dir, "--preset", "instaflow", "--device", "cpu")
        self.assertEqual(code, 1)
        self.assertIn("exists and is not empty", err)
        self.assertEqual(os.listdir(out_dir), ["keep.txt"])

    def test_an_empty_out_dir_is_used(self):
        out_dir = os.path.join(self.tmp, "empty")
        os.makedirs(out_dir)
        code, out, err = support.run_cli(support.tiny_model(), out_dir, "--preset", "instaflow", "--device", "cpu",
                                         "--quiet")
        self.assertEqual(code, 0, err)
        self.assertIn("manifest.json", os.listdir(out_dir))
        self.assertEqual(self.leftovers(self.tmp), [])

    def test_a_failed_trace_check_writes_nothing(self):
        import torch
        from instaflow_export import tracing
        strict = {torch.float32: -1.0, torch.float16: -1.0}  # no difference can pass
        with mock.patch.dict(tracing.PART_TOLERANCE, strict):
            code, out_dir, err = self.export(support.tiny_model(), "failed-check", "--preset", "instaflow",
                                             "--device", "cpu")
        self.assertEqual(code, 1)
        self.assertIn("does not reproduce eager", err)
        self.assertIn("Nothing was written", err)
        self.assertNothingWritten(out_dir)

    def test_non_finite_outputs_are_refused_and_nothing_is_written(self):
        import torch
        snapshot = support.derived_snapshot(self.tmp, "nan-unet")
        unet = support.replace_component(snapshot, "unet")
        from safetensors.torch import load_file, save_file
        weights_file = os.path.join(unet, "diffusion_pytorch_model.safetensors")
        weights = load_file(os.path.realpath(weights_file))
        weights["conv_out.bias"] = torch.full_like(weights["conv_out.bias"], float("inf"))
        os.unlink(weights_file)
        save_file(weights, weights_file)
        code, out_dir, err = self.export(snapshot, "nan-bundle", "--preset", "instaflow", "--device", "cpu")
        self.assertEqual(code, 1)
        self.assertIn("non-finite values", err)
        self.assertIn("denoiser", err)
        self.assertNothingWritten(out_dir)

    def test_fp16_on_cpu_is_refused_with_the_reason(self):
        code, out_dir, err = self.export(support.tiny_model(), "fp16-cpu", "--preset", "instaflow", "--device", "cpu",
                                         "--dtype", "fp16")
        self.assertEqual(code, 1)
        self.assertIn("--dtype fp16 needs --device cuda", err)
        self.assertNothingWritten(out_dir)

    def test_cuda_without_a_gpu_is_refused(self):
        import torch
        if torch.cuda.is_available():
            self.skipTest("this machine has CUDA")
        code, out_dir, err = self.export(support.tiny_model(), "cuda", "--preset", "instaflow", "--device", "cuda")
        self.assertEqual(code, 1)
        self.assertIn("sees no CUDA device", err)
        self.assertNothingWritten(out_dir)

    def test_a_missing_component_is_named(self):
        snapshot = support.derived_snapshot(self.tmp, "no-vae")
        os.unlink(os.path.join(snapshot, "vae"))
        code, out_dir, err = self.export(snapshot, "no-vae-bundle", "--preset", "instaflow", "--device", "cpu")
        self.assertEqual(code, 1)
        self.assertIn("missing vae/", err)
        self.assertNothingWritten(out_dir)

    def test_mismatched_components_are_named(self):
        snapshot = support.derived_snapshot(self.tmp, "mismatch")
        unet = support.replace_component(snapshot, "unet")
        with open(os.path.join(unet, "config.json")) as f:
            config = json.load(f)
        config["cross_attention_dim"] = 768
        support.write_json(os.path.join(unet, "config.json"), config)
        code, out_dir, err = self.export(snapshot, "mismatch-bundle", "--preset", "instaflow", "--device", "cpu")
        self.assertEqual(code, 1)
        self.assertIn("cross_attention_dim 768", err)
        self.assertIn("hidden_size 32", err)

    def test_v_prediction_snapshots_are_refused(self):
        snapshot = support.derived_snapshot(self.tmp, "v-pred")
        scheduler = support.replace_component(snapshot, "scheduler")
        with open(os.path.join(scheduler, "scheduler_config.json")) as f:
            config = json.load(f)
        config["prediction_type"] = "v_prediction"
        support.write_json(os.path.join(scheduler, "scheduler_config.json"), config)
        code, out_dir, err = self.export(snapshot, "v-pred-bundle", "--preset", "rectified-flow", "--device", "cpu")
        self.assertEqual(code, 1)
        self.assertIn("v_prediction", err)

    def test_weights_missing_from_the_checkpoint_are_refused(self):
        import torch  # noqa: F401
        snapshot = support.derived_snapshot(self.tmp, "missing-weights")
        vae = support.replace_component(snapshot, "vae")
        from safetensors.torch import load_file, save_file
        weights_file = os.path.join(vae, "diffusion_pytorch_model.safetensors")
        weights = load_file(os.path.realpath(weights_file))
        del weights["decoder.conv_out.weight"]
        os.unlink(weights_file)
        save_file(weights, weights_file)
        code, out_dir, err = self.export(snapshot, "missing-weights-bundle", "--preset", "instaflow", "--device", "cpu")
        self.assertEqual(code, 1)
        self.assertIn("decoder.conv_out.weight", err)
        self.assertNothingWritten(out_dir)


class OldVaeAttentionNames(support.TempDirTestCase):
    def test_query_key_value_proj_attn_names_export_to_the_same_decoder(self):
        """Old SD VAE checkpoints name the mid-block attention query/key/value/proj_attn; diffusers renames them
        when loading, so the export must succeed without a word and give exactly the same decoder."""
        import torch
        from safetensors.torch import load_file, save_file
        snapshot = support.derived_snapshot(self.tmp, "old-vae")
        vae = support.replace_component(snapshot, "vae")
        weights_file = os.path.join(vae, "diffusion_pytorch_model.safetensors")
        weights = load_file(os.path.realpath(weights_file))
        renames = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}
        old = {}
        renamed = 0
        for key, value in weights.items():
            new_key = key
            if ".attentions." in key:
                for new, legacy in renames.items():
                    if f".{new}." in key:
                        new_key = key.replace(f".{new}.", f".{legacy}.")
                        renamed += 1
            old[new_key] = value
        self.assertGreaterEqual(renamed, 16)  # encoder and decoder mid-block: 4 linears x (weight, bias) each
        os.unlink(weights_file)
        save_file(old, weights_file)

        reference = os.path.join(self.tmp, "reference-bundle")
        legacy = os.path.join(self.tmp, "legacy-bundle")
        for source, target in ((support.tiny_model(), reference), (snapshot, legacy)):
            code, out, err = support.run_cli(source, target, "--preset", "instaflow", "--device", "cpu", "--quiet")
            self.assertEqual(code, 0, err)
            # No complaint about the renamed keys (Python's own warnings about library sources may appear).
            for word in ("query", "proj_attn", "missing", "error"):
                self.assertNotIn(word, err.lower())
        z = torch.randn((1, 4, 16, 16), generator=torch.Generator().manual_seed(3)) * 5
        a = torch.jit.load(os.path.join(reference, "vae_decoder.pt"))(z)
        b = torch.jit.load(os.path.join(legacy, "vae_decoder.pt"))(z)
        self.assertEqual((a - b).abs().max().item(), 0.0)
        for name in ("expected_uint8.bin",):
            with open(os.path.join(reference, "selftest", name), "rb") as x, \
                    open(os.path.join(legacy, "selftest", name), "rb") as y:
                self.assertEqual(x.read(), y.read())


if __name__ == "__main__":
    unittest.main()
