"""The full-size proof's scripts, run small: the random snapshot builder (with the tiny fixture's configs instead of
SD-1.5's), its activation calibration, compare.py, and (when INSTAFLOW_PIPELINE_RF points at InstaFlow's
code/pipeline_rf.py) reference_pipeline.py against the fixture's reference cases."""

import json
import os
import subprocess
import sys
import unittest

import support

SCRIPTS = os.path.join(support.EXPORTER_DIR, "scripts")


def run_script(name, *args):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, name), *map(str, args)], capture_output=True,
                          text=True)


def tiny_configs(folder):
    """The tiny fixture's component configs in the layout make_random_sd15_snapshot.py reads."""
    os.makedirs(folder)
    model = support.tiny_model()
    for component in ("text_encoder", "unet", "vae"):
        with open(os.path.join(model, component, "config.json")) as f:
            support.write_json(os.path.join(folder, component + ".json"), json.load(f))
    with open(os.path.join(model, "scheduler", "scheduler_config.json")) as f:
        support.write_json(os.path.join(folder, "scheduler.json"), json.load(f))
    return folder


class RandomSnapshot(support.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.configs = tiny_configs(os.path.join(cls.tmp, "configs"))

    def test_the_sd15_configs_are_the_release_shapes(self):
        folder = os.path.join(SCRIPTS, "configs", "sd15")
        with open(os.path.join(folder, "unet.json")) as f:
            unet = json.load(f)
        with open(os.path.join(folder, "text_encoder.json")) as f:
            text = json.load(f)
        with open(os.path.join(folder, "vae.json")) as f:
            vae = json.load(f)
        self.assertEqual(unet["block_out_channels"], [320, 640, 1280, 1280])
        self.assertEqual((unet["cross_attention_dim"], unet["sample_size"], unet["attention_head_dim"]), (768, 64, 8))
        self.assertEqual((text["hidden_size"], text["num_hidden_layers"], text["num_attention_heads"],
                          text["intermediate_size"], text["hidden_act"], text["max_position_embeddings"],
                          text["vocab_size"]), (768, 12, 12, 3072, "quick_gelu", 77, 49408))
        self.assertEqual((vae["block_out_channels"], vae["scaling_factor"]), ([128, 256, 512, 512], 0.18215))

    def test_builds_a_snapshot_the_exporter_accepts(self):
        snapshot = os.path.join(self.tmp, "snapshot")
        r = run_script("make_random_sd15_snapshot.py", "--out", snapshot, "--configs", self.configs,
                       "--tokenizer", os.path.join(support.tiny_model(), "tokenizer"), "--device", "cpu")
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        with open(os.path.join(snapshot, "model_index.json")) as f:
            self.assertEqual(json.load(f)["_class_name"], "RectifiedFlowPipeline")
        with open(os.path.join(snapshot, "random_init.json")) as f:
            init = json.load(f)["components"]
        self.assertEqual({k: v["gain"] for k, v in init.items()}, {"text_encoder": 1.0, "unet": 1.0, "vae": 1.0})
        code, out, err = support.run_cli(snapshot, os.path.join(self.tmp, "bundle"), "--preset", "rectified-flow",
                                         "--device", "cpu", "--quiet")
        self.assertEqual(code, 0, err)

    def test_halves_the_gain_until_activations_are_below_the_limit(self):
        snapshot = os.path.join(self.tmp, "calibrated")
        r = run_script("make_random_sd15_snapshot.py", "--out", snapshot, "--configs", self.configs,
                       "--tokenizer", os.path.join(support.tiny_model(), "tokenizer"), "--device", "cpu",
                       "--max-activation", "8")
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("vae: gain 1: ", r.stdout)
        self.assertIn("too large, halving the gain", r.stdout)
        with open(os.path.join(snapshot, "random_init.json")) as f:
            vae = json.load(f)["components"]["vae"]
        self.assertLess(vae["gain"], 1.0)
        self.assertLess(vae["float32"]["max_activation"], 8.0)


class Compare(unittest.TestCase):
    def test_identical_runs_pass_and_thresholds_fail_on_differences(self):
        case = support.reference_case("rf2_n4_cfg1.5")
        other = support.reference_case("rf2_n4_nocfg")
        same = run_script("compare.py", "--expected", case, "--actual", case, "--max-image-diff", "0")
        self.assertEqual(same.returncode, 0, same.stdout)
        self.assertIn("PSNR inf dB", same.stdout)
        different = run_script("compare.py", "--expected", case, "--actual", other, "--max-image-diff", "2")
        self.assertEqual(different.returncode, 1, different.stdout)
        self.assertIn("image max |diff|", different.stdout)


@unittest.skipUnless(os.environ.get("INSTAFLOW_PIPELINE_RF"), "set INSTAFLOW_PIPELINE_RF to InstaFlow's "
                                                              "code/pipeline_rf.py")
class ReferencePipeline(support.TempDirTestCase):
    def test_reproduces_the_fixture_reference_cases(self):
        for name, steps, guidance in (("instaflow_n1_nocfg", 1, 0.0), ("rf2_n4_cfg1.5", 4, 1.5)):
            out = os.path.join(self.tmp, name)
            r = run_script("reference_pipeline.py", "--pipeline-rf", os.environ["INSTAFLOW_PIPELINE_RF"],
                           "--snapshot", support.tiny_model(), "--out", out, "--steps", steps, "--guidance", guidance,
                           "--device", "cpu")
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])
            c = run_script("compare.py", "--expected", support.reference_case(name), "--actual", out,
                           "--names", "prompt_embeds,initial_noise,final_latents,image_uint8", "--max-image-diff", "0",
                           "--max-latent-diff", "0")
            self.assertEqual(c.returncode, 0, c.stdout)


if __name__ == "__main__":
    unittest.main()
