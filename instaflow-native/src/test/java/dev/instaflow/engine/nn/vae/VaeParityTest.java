package dev.instaflow.engine.nn.vae;

import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java VAE decoder against the fixtures' diffusers 0.21.4 forward-hook activations of the final decode, block by
 * block, and against the case's decoded image; every weight of both fixtures' VAEs is used by decoder + encoder.
 */
class VaeParityTest {
    /** Debug tensor names of the decoder, in the order the decoder runs (tap name = name without "vae_decoder_"). */
    private static final List<String> DECODER_TENSORS = List.of("vae_post_quant_conv", "vae_decoder_conv_in",
            "vae_decoder_mid_block", "vae_decoder_up_block0", "vae_decoder_up_block1", "vae_decoder_conv_norm_out",
            "vae_decoder_conv_out");

    @BeforeAll
    static void natives() {
        TorchRuntime.ensureLoaded();
    }

    @Test
    void decoderMatchesTinySd15() {
        decoderMatches("tiny-sd15", SharedFixtures.tinySd15(), SharedFixtures.referenceCase("instaflow_n1_nocfg"));
    }

    @Test
    void decoderMatchesTinySd21() {
        decoderMatches("tiny-sd21", SharedFixtures.tinySd21(), SharedFixtures.tinySd21Case("rf_n2_cfg1.5"));
    }

    @Test
    void decoderMatchesTinySd21SwiftBrushCase() {
        decoderMatches("tiny-sd21", SharedFixtures.tinySd21(), SharedFixtures.tinySd21Case("swiftbrush_eps_n1"));
    }

    @Test
    void decoderAndEncoderTakeEveryWeightOfBothFixtures() {
        for (Path fixture : List.of(SharedFixtures.tinySd15(), SharedFixtures.tinySd21())) {
            Path vae = fixture.resolve("model/vae");
            VaeConfig config = VaeConfig.read(vae.resolve("config.json"));
            try (StateDict w = VaeFixtures.weights(vae)) {
                VaeDecoder.build(config, w, vae).close();
                VaeEncoder.build(config, w, vae).close();
                w.requireAllTaken();
            }
        }
    }

    private static void decoderMatches(String model, Path fixture, Path caseFolder) {
        ReferenceCase run = ReferenceCase.at(caseFolder);
        ReferenceCase debug = ReferenceCase.at(caseFolder.resolve("debug"));
        Path vae = fixture.resolve("model/vae");
        VaeConfig config = VaeConfig.read(vae.resolve("config.json"));
        assertEquals(run.parameters().get("scaling_factor").getAsDouble(), config.scalingFactor(), 0.0);
        // the decoder's input: final_latents / scaling_factor, divided outside (see the manifest's note)
        String note = run.parameters().getAsJsonObject("tensors").getAsJsonObject("vae_in_latents").get("note")
                .getAsString();
        assertTrue(note.startsWith("final_latents / " + config.scalingFactor()), note);
        float[] finalLatents = run.floats("final_latents");
        float[] zValues = run.floats("vae_in_latents");
        for (int i = 0; i < zValues.length; i++) {
            assertEquals(finalLatents[i] / (float) config.scalingFactor(), zValues[i], 1e-5 * Math.abs(zValues[i]) + 1e-6);
        }
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(vae);
             VaeDecoder decoder = VaeDecoder.build(config, w, vae)) {
            Tensor z = Tensors.fromFloats(zValues, run.shape("vae_in_latents"));
            VaeFixtures.Recorder tap = new VaeFixtures.Recorder();
            Tensor image = decoder.decode(z, tap);
            StringBuilder report = new StringBuilder("VAE decoder parity, " + model + " " + caseFolder.getFileName()
                    + " (max |Δ|):");
            for (String name : DECODER_TENSORS) {
                String tapName = name.startsWith("vae_decoder_") ? name.substring("vae_decoder_".length())
                        : name.substring("vae_".length());
                VaeFixtures.assertShape(debug.shape(name), tap.shapes.get(tapName), name);
                double d = VaeFixtures.maxAbsDiff(debug.floats(name), tap.values.get(tapName), name);
                report.append(String.format(" %s %.3g,", tapName, d));
                assertTrue(d <= VaeFixtures.TOLERANCE, name + " differs by " + d);
            }
            VaeFixtures.assertShape(run.shape("image_decoded"), Tensors.shape(image), "image_decoded");
            double d = VaeFixtures.maxAbsDiff(run.floats("image_decoded"), Tensors.toFloats(image), "image_decoded");
            report.append(String.format(" image_decoded %.3g", d));
            System.out.println(report);
            assertTrue(d <= VaeFixtures.TOLERANCE, "image_decoded differs by " + d);
        }
    }
}
