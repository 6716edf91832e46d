package dev.instaflow.samples.cli;

import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.SelfTestBundles;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A self-test made from the tiny fixture's reference run {@code rf2_n4_cfg1.5}: PASS as made, FAIL when tampered. */
class VerifyCommandTest {
    @TempDir
    Path temp;

    private static Path bundleWithSelfTest(Path dir) throws IOException {
        return SelfTestBundles.addSelfTest(TestModels.copyOfTinyBundle(dir));
    }

    private static Cli.Result verify(Path bundle) {
        return Cli.run("verify", "--model", bundle.toString(), "--device", "cpu", "--threads", TestModels.threads());
    }

    @Test
    void passesOnTheBundleItWasMadeFor() throws IOException {
        Cli.Result r = verify(bundleWithSelfTest(temp.resolve("ok"))).succeeded();
        assertTrue(r.out().startsWith("PASS: max |diff| "), r.out());
        assertTrue(r.out().contains("tiny-sd15 rf2_n4_cfg1.5"), "reference info: " + r.out());
    }

    @Test
    @SuppressWarnings("try") // the scope and the guard are used for their effect on native state
    void failsWithExitCodeOneOnTamperedWeights() throws IOException {
        Path bundle = bundleWithSelfTest(temp.resolve("tampered"));
        TorchRuntime.ensureLoaded();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            JitModule denoiser = torch.load(bundle.resolve("denoiser.pt").toString());
            denoiser.parameters(true).begin().access().mul_(new Scalar(1.05)); // the first weight, 5 % off
            denoiser.save(bundle.resolve("denoiser.pt").toString());
        }

        Cli.Result r = verify(bundle);
        assertEquals(InstaFlowCli.FAILURE, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("FAIL: max |diff| "), r.out());
        assertEquals("", r.err(), "a failed check is a result, not an error");
    }

    @Test
    void aBundleWithoutSelfTestGetsTheChecksThatNeedNoReference() {
        Cli.Result r = verify(TestModels.tinyBundle()).succeeded();
        assertTrue(r.out().startsWith("PASS: no stored self-test; checked: loads on cpu/float32"), r.out());
        assertTrue(r.out().contains("deterministic"), r.out());
        assertTrue(r.out().contains("not checked: that the images are right"), r.out());
    }

    @Test
    void theBuiltInDefaultModelPassesVerify() {
        String previous = System.getProperty(DefaultModel.HOME_PROPERTY);
        System.setProperty(DefaultModel.HOME_PROPERTY, temp.resolve("home").toString());
        try {
            Cli.Result r = Cli.run("verify", "--device", "cpu", "--threads", TestModels.threads()).succeeded();
            assertTrue(r.out().startsWith("PASS: no stored self-test; checked: "), r.out());
            assertTrue(r.out().contains("32x32, euler 1 step(s)"), r.out());
        } finally {
            if (previous == null) {
                System.clearProperty(DefaultModel.HOME_PROPERTY);
            } else {
                System.setProperty(DefaultModel.HOME_PROPERTY, previous);
            }
        }
    }

    @Test
    void aBundleWithoutSelfTestWhoseImagesAreOneColourFails() throws IOException {
        Path bundle = TestModels.copyOfTinyBundle(temp.resolve("flat"));
        // A decoder of the right shape (VAE factor 2) that ignores its latents: every image is mid grey.
        try (ScriptModuleBuilder flat = new ScriptModuleBuilder("FlatDecoder")) {
            flat.define("def forward(self, z: Tensor) -> Tensor:\n"
                    + "    return torch.zeros([z.size(0), 3, z.size(2) * 2, z.size(3) * 2], dtype=z.dtype)\n")
                    .save(bundle.resolve("vae_decoder.pt"));
        }

        Cli.Result r = verify(bundle);
        assertEquals(InstaFlowCli.FAILURE, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("FAIL: no stored self-test; "), r.out());
        assertTrue(r.out().contains("single colour"), r.out());
        assertTrue(r.out().contains("different noise are identical"), r.out());
        assertEquals("", r.err(), "a failed check is a result, not an error");
    }

    @Test
    void aMissingBundleIsAnError() {
        Cli.Result r = verify(temp.resolve("absent")).failedWith(InstaFlowCli.FAILURE);
        assertTrue(r.err().contains("absent"), r.err());
    }
}
