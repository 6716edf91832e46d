"""Exports of the shared tiny SD-1.5-shaped model, checked against the fixture's independent reference runs."""

import json
import os
import unittest

import support


class InstaflowPresetExport(support.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bundle = os.path.join(cls.tmp, "instaflow")
        code, cls.out, cls.err = support.run_cli(support.tiny_model(), cls.bundle, "--preset", "instaflow",
                                                 "--device", "cpu")
        assert code == 0, cls.err

    def manifest(self):
        with open(os.path.join(self.bundle, "manifest.json")) as f:
            return json.load(f)

    def test_manifest_geometry_comes_from_the_snapshot_configs(self):
        m = self.manifest()
        self.assertEqual((m["format"], m["format_version"]), ("instaflow-bundle", 1))
        self.assertEqual((m["family"], m["dtype"], m["traced_on"]), ("instaflow", "float32", "cpu"))
        self.assertEqual(m["prediction"], {"type": "velocity", "time_scale": 1000.0})
        # tiny VAE: 2 blocks -> factor 2; UNet: 2 down blocks -> one more factor 2; sample_size 16
        self.assertEqual(m["latent"], {"channels": 4, "vae_scale_factor": 2, "scaling_factor": 0.18215})
        self.assertEqual(m["image"], {"default_width": 32, "default_height": 32, "size_multiple": 4})
        self.assertEqual(m["text"], {"max_length": 77, "hidden_size": 32, "bos_id": 49406, "eos_id": 49407,
                                     "pad_id": 49407})
        self.assertEqual(m["sampling"], {"sampler": "euler", "steps": 1, "guidance": 0.0, "negative_prompt": ""})
        self.assertEqual(m["parts"], {"text_encoder": "text_encoder.pt", "denoiser": "denoiser.pt",
                                      "vae_decoder": "vae_decoder.pt", "tokenizer": "tokenizer"})

    def test_provenance_records_versions_and_source(self):
        import diffusers
        import torch
        import transformers
        p = self.manifest()["provenance"]
        self.assertEqual(p["torch"], torch.__version__)
        self.assertEqual(p["diffusers"], diffusers.__version__)
        self.assertEqual(p["transformers"], transformers.__version__)
        self.assertTrue(p["exporter"].startswith("instaflow_export "))
        self.assertEqual(p["snapshot"], support.tiny_model())
        self.assertEqual(p["snapshot_pipeline"], "RectifiedFlowPipeline")
        self.assertIn("created_at", p)
        self.assertTrue(all(isinstance(v, str) for v in p.values()))

    def test_tokenizer_files_are_copied(self):
        files = sorted(os.listdir(os.path.join(self.bundle, "tokenizer")))
        self.assertEqual(files, sorted(os.listdir(os.path.join(support.tiny_model(), "tokenizer"))))

    def test_traced_denoiser_reproduces_the_reference_unet_call(self):
        import torch
        unet = torch.jit.load(os.path.join(self.bundle, "denoiser.pt"))
        for case in ("rf2_n4_cfg1.5", "instaflow_n1_nocfg"):
            ref = support.reference_case(case)
            with open(os.path.join(ref, "manifest.json")) as f:
                tensors = json.load(f)["tensors"]

            def load(name):
                t = tensors[name]
                return torch.from_numpy(support.read_raw(os.path.join(ref, t["file_raw"]), t["dtype"], t["shape"]))

            out = unet(load("unet_in_sample_step0"), load("unet_in_timestep_step0"),
                       load("unet_in_encoder_hidden_states_step0"))
            diff = (out - load("unet_out_step0")).abs().max().item()
            self.assertLess(diff, 1e-4, case)

    def test_selftest_is_the_reference_case_without_guidance(self):
        """The instaflow self-test (1 step, guidance 0, seed 1234, "a photo of a cat", 32x32) is exactly the
        fixture's instaflow_n1_nocfg case, made independently: noise and image must be identical."""
        st = os.path.join(self.bundle, "selftest")
        with open(os.path.join(st, "selftest.json")) as f:
            spec = json.load(f)
        self.assertEqual(spec["format"], "instaflow-selftest")
        self.assertEqual((spec["prompt"], spec["steps"], spec["guidance"], spec["seed"]), ("a photo of a cat", 1, 0.0, 1234))
        self.assertEqual((spec["width"], spec["height"], spec["noise_shape"]), (32, 32, [1, 4, 16, 16]))
        self.assertEqual(spec["tolerance"], {"max_abs_uint8": 2, "min_psnr_db": 35.0})
        ref = support.reference_case("instaflow_n1_nocfg")
        with open(os.path.join(st, spec["noise"]), "rb") as a, open(os.path.join(ref, "initial_noise.bin"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        with open(os.path.join(st, spec["expected_image"]), "rb") as a, open(os.path.join(ref, "image_uint8.bin"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_output_lists_the_checks(self):
        self.assertIn("denoiser batch 2, latent 16x12", self.out)
        self.assertIn("text_encoder batch 3", self.out)
        self.assertIn("traced pipeline vs eager on the self-test: max |diff| 0", self.out)
        self.assertIn("instaflow verify --model", self.out)


class RectifiedFlowPresetExport(support.TempDirTestCase):
    def test_selftest_with_guidance_is_the_reference_cfg_case(self):
        bundle = os.path.join(self.tmp, "rf")
        code, out, err = support.run_cli(support.tiny_model(), bundle, "--preset", "rectified-flow", "--device", "cpu",
                                         "--quiet")
        self.assertEqual(code, 0, err)
        with open(os.path.join(bundle, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual((m["family"], m["sampling"]["steps"], m["sampling"]["guidance"]), ("rectified-flow", 4, 1.5))
        with open(os.path.join(bundle, "selftest", "selftest.json")) as f:
            spec = json.load(f)
        self.assertEqual((spec["steps"], spec["guidance"], spec["negative_prompt"]), (1, 1.5, ""))
        ref = support.reference_case("instaflow_n1_cfg1.5")  # 1 step, guidance 1.5, same prompt and seed
        with open(os.path.join(bundle, "selftest", "expected_uint8.bin"), "rb") as a, \
                open(os.path.join(ref, "image_uint8.bin"), "rb") as b:
            self.assertEqual(a.read(), b.read())


class FrozenExport(support.TempDirTestCase):
    def test_frozen_parts_hold_no_parameters_and_reproduce_the_reference(self):
        import torch
        bundle = os.path.join(self.tmp, "frozen")
        code, out, err = support.run_cli(support.tiny_model(), bundle, "--preset", "instaflow", "--device", "cpu",
                                         "--freeze", "--quiet")
        self.assertEqual(code, 0, err)
        with open(os.path.join(bundle, "manifest.json")) as f:
            self.assertEqual(json.load(f)["provenance"]["frozen"], "true")
        denoiser = torch.jit.load(os.path.join(bundle, "denoiser.pt"))
        self.assertEqual(len(list(denoiser.parameters())), 0)  # weights became constants
        ref = support.reference_case("instaflow_n1_nocfg")
        with open(os.path.join(bundle, "selftest", "expected_uint8.bin"), "rb") as a, \
                open(os.path.join(ref, "image_uint8.bin"), "rb") as b:
            self.assertEqual(a.read(), b.read())


class SwiftbrushPresetExport(support.TempDirTestCase):
    def test_epsilon_manifest_and_selftest_match_the_reference_case(self):
        bundle = os.path.join(self.tmp, "sb")
        code, out, err = support.run_cli(support.tiny_model(), bundle, "--preset", "swiftbrush", "--device", "cpu",
                                         "--quiet")
        self.assertEqual(code, 0, err)
        with open(os.path.join(bundle, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["prediction"], {"type": "epsilon", "timestep": 999.0, "alpha_bar": 0.0047})
        ref = support.reference_case("swiftbrush_eps_n1")
        with open(os.path.join(bundle, "selftest", "expected_uint8.bin"), "rb") as a, \
                open(os.path.join(ref, "image_uint8.bin"), "rb") as b:
            self.assertEqual(a.read(), b.read())


if __name__ == "__main__":
    unittest.main()
