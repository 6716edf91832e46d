package dev.instaflow.engine.nn.vae;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.ReferenceCase;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The VAE networks' contract beyond parity: closing, argument checks, the optional convolutions and attention,
 * deprecated and 1×1-conv-shaped attention weights, missing weights, and that stages free their outputs.
 */
class VaeNetworkTest {
    @TempDir
    Path temp;

    private static final Path VAE = SharedFixtures.tinySd15().resolve("model/vae");

    @BeforeAll
    static void natives() {
        TorchRuntime.ensureLoaded();
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseFails() {
        VaeConfig c = VaeConfig.read(VAE.resolve("config.json"));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(VAE)) {
            VaeDecoder decoder = VaeDecoder.build(c, w, VAE);
            VaeEncoder encoder = VaeEncoder.build(c, w, VAE);
            assertEquals("VAE decoder", decoder.role());
            assertEquals("VAE encoder", encoder.role());
            assertEquals(VAE, decoder.source());
            assertEquals("vae", encoder.field());
            decoder.close();
            decoder.close();
            encoder.close();
            encoder.close();
            IllegalStateException d = assertThrows(IllegalStateException.class,
                    () -> decoder.decode(torch.zeros(1, 4, 8, 8)));
            assertTrue(d.getMessage().contains("closed"), d.getMessage());
            assertThrows(IllegalStateException.class, () -> encoder.encodeMean(torch.zeros(1, 3, 16, 16)));
            // the weights stay usable: the networks do not own them
            VaeDecoder again = VaeDecoder.build(c, w, VAE);
            assertEquals(3, Tensors.shape(again.decode(torch.zeros(1, 4, 8, 8)))[1]);
        }
    }

    @Test
    void checksChannelsAndSizes() {
        VaeConfig c = VaeConfig.read(VAE.resolve("config.json"));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(VAE);
             VaeDecoder decoder = VaeDecoder.build(c, w, VAE);
             VaeEncoder encoder = VaeEncoder.build(c, w, VAE)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> decoder.decode(torch.zeros(1, 3, 8, 8)));
            assertTrue(e.getMessage().contains("[1, 3, 8, 8]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> encoder.encodeMean(torch.zeros(1, 4, 16, 16)));
            assertTrue(e.getMessage().contains("[1, 4, 16, 16]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> encoder.encodeMean(torch.zeros(1, 3, 31, 16)));
            assertTrue(e.getMessage().contains("16×31") && e.getMessage().contains("scale factor 2"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> encoder.encodeMean(torch.zeros(3, 16, 16)));
            assertTrue(e.getMessage().contains("[3, 16, 16]"), e.getMessage());
        }
    }

    /** Without post_quant_conv the decoder starts at conv_in: fed the fixture's post_quant_conv output it gives the image. */
    @Test
    void decoderWithoutPostQuantConv() throws IOException {
        VaeConfig c = VaeConfig.read(editedConfig(o -> o.addProperty("use_post_quant_conv", false)));
        ReferenceCase debug = ReferenceCase.at(SharedFixtures.referenceCase("instaflow_n1_nocfg").resolve("debug"));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(VAE);
             VaeDecoder decoder = VaeDecoder.build(c, w, VAE)) {
            Tensor image = decoder.decode(Tensors.fromFloats(debug.floats("vae_post_quant_conv"),
                    debug.shape("vae_post_quant_conv")));
            assertTrue(VaeFixtures.maxAbsDiff(debug.floats("vae_decoder_conv_out"), Tensors.toFloats(image),
                    "image") <= VaeFixtures.TOLERANCE);
            VaeEncoder.build(c, w, VAE).close();
            InvalidModelException e = assertThrows(InvalidModelException.class, w::requireAllTaken);
            assertEquals("post_quant_conv.bias", e.field().orElse(null), e.getMessage());
        }
    }

    /** Without quant_conv the mean is the first half of the encoder's conv_out. */
    @Test
    void encoderWithoutQuantConv() throws IOException {
        VaeConfig c = VaeConfig.read(editedConfig(o -> o.addProperty("use_quant_conv", false)));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(VAE);
             VaeEncoder encoder = VaeEncoder.build(c, w, VAE)) {
            VaeFixtures.Recorder tap = new VaeFixtures.Recorder();
            Tensor mean = encoder.encodeMean(torch.rand(1, 3, 16, 16), tap);
            assertTrue(!tap.values.containsKey("quant_conv"));
            Tensor convOut = Tensors.fromFloats(tap.values.get("conv_out"), tap.shapes.get("conv_out"));
            assertTrue(torch.equal(convOut.narrow(1, 0, 4), mean));
            VaeDecoder.build(c, w, VAE).close();
            InvalidModelException e = assertThrows(InvalidModelException.class, w::requireAllTaken);
            assertTrue(e.field().orElse("").startsWith("quant_conv."), e.getMessage());
        }
    }

    @Test
    void midBlockWithoutAttentionLeavesItsWeightsUnused() throws IOException {
        VaeConfig c = VaeConfig.read(editedConfig(o -> o.addProperty("mid_block_add_attention", false)));
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
             StateDict w = VaeFixtures.weights(VAE);
             VaeDecoder decoder = VaeDecoder.build(c, w, VAE)) {
            VaeEncoder.build(c, w, VAE).close();
            InvalidModelException e = assertThrows(InvalidModelException.class, w::requireAllTaken);
            assertTrue(e.field().orElse("").contains(".mid_block.attentions.0."), e.getMessage());
            assertEquals(3, Tensors.shape(decoder.decode(torch.zeros(1, 4, 8, 8)))[1]);
        }
    }

    /**
     * Checkpoints from before diffusers 0.14 ({@code query/key/value/proj_attn}), with linear or 1×1-conv-shaped
     * weights, give exactly the output of the current names.
     */
    @Test
    void deprecatedAttentionNamesAndConvShapedWeights() {
        VaeConfig c = VaeConfig.read(VAE.resolve("config.json"));
        for (boolean convShaped : new boolean[] {false, true}) {
            try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode();
                 StateDict w = VaeFixtures.weights(VAE);
                 StateDict old = renamed(w, convShaped);
                 VaeDecoder current = VaeDecoder.build(c, w, VAE);
                 VaeDecoder deprecated = VaeDecoder.build(c, old, VAE);
                 VaeEncoder currentEnc = VaeEncoder.build(c, w, VAE);
                 VaeEncoder deprecatedEnc = VaeEncoder.build(c, old, VAE)) {
                old.requireAllTaken();
                assertTrue(old.contains("decoder.mid_block.attentions.0.proj_attn.weight"));
                Tensor z = torch.randn(1, 4, 8, 8);
                assertTrue(torch.equal(current.decode(z), deprecated.decode(z)), "conv-shaped: " + convShaped);
                Tensor x = torch.rand(1, 3, 16, 16);
                assertTrue(torch.equal(currentEnc.encodeMean(x), deprecatedEnc.encodeMean(x)));
            }
        }
    }

    @Test
    void aMissingOrMisshapenWeightIsNamed() {
        VaeConfig c = VaeConfig.read(VAE.resolve("config.json"));
        try (PointerScope scope = new PointerScope(); StateDict w = VaeFixtures.weights(VAE);
             StateDict partial = copy(w, "decoder.up_blocks.1.resnets.2.conv2.weight", null)) {
            InvalidModelException e = assertThrows(InvalidModelException.class,
                    () -> VaeDecoder.build(c, partial, VAE));
            assertEquals("decoder.up_blocks.1.resnets.2.conv2.weight", e.field().orElse(null), e.getMessage());
            try (StateDict wrong = copy(w, "encoder.mid_block.attentions.0.to_k.weight",
                    w.entry("encoder.mid_block.attentions.0.to_k.weight").tensor().narrow(0, 0, 32))) {
                e = assertThrows(InvalidModelException.class, () -> VaeEncoder.build(c, wrong, VAE));
                assertEquals("encoder.mid_block.attentions.0.to_k.weight", e.field().orElse(null), e.getMessage());
                assertTrue(e.getMessage().contains("[32, 64]"), e.getMessage());
            }
        }
    }

    /** A stage's output is freed once the next stage has run; the caller's input is left alone. */
    @Test
    void activationChainFreesConsumedStages() {
        try (PointerScope scope = new PointerScope()) {
            Tensor input = torch.ones(2, 2);
            Tensor[] seen = new Tensor[2];
            ActivationChain chain = new ActivationChain(input, VaeTap.NONE);
            chain.then(x -> seen[0] = x.add(x));
            chain.then(x -> seen[1] = x.mul(x));
            Tensor result = chain.then(x -> x.sum()).result();
            assertEquals(16.0f, Tensors.toFloats(result)[0]);
            // JavaCPP reports -1 (no deallocator left) or 0 once a pointer is freed
            assertTrue(seen[0].referenceCount() <= 0, "first stage's output still held");
            assertTrue(seen[1].referenceCount() <= 0, "second stage's output still held");
            assertTrue(result.referenceCount() > 0, "the result was freed");
            assertTrue(input.referenceCount() > 0, "the input was freed");
            assertEquals(4.0f, Tensors.toFloats(input.sum())[0]);
        }
        assertThrows(IllegalStateException.class, () -> new ActivationChain(null, VaeTap.NONE));
    }

    private static StateDict renamed(StateDict w, boolean convShaped) {
        StateDict out = new StateDict("vae", VAE);
        for (String key : w.keys()) {
            Tensor t = w.entry(key).tensor();
            String k = key.replace(".to_q.", ".query.").replace(".to_k.", ".key.").replace(".to_v.", ".value.")
                    .replace(".to_out.0.", ".proj_attn.");
            if (convShaped && !k.equals(key) && k.endsWith(".weight")) {
                long[] s = Tensors.shape(t);
                t = t.view(s[0], s[1], 1, 1);
            }
            out.put(k, t, w.entry(key).file());
        }
        return out;
    }

    /** A copy of {@code w} with {@code key} removed (replacement null) or replaced. */
    private static StateDict copy(StateDict w, String key, Tensor replacement) {
        StateDict out = new StateDict("vae", VAE);
        for (String k : w.keys()) {
            if (!k.equals(key)) {
                out.put(k, w.entry(k).tensor(), w.entry(k).file());
            } else if (replacement != null) {
                out.put(k, replacement, w.entry(k).file());
            }
        }
        return out;
    }

    private Path editedConfig(Consumer<JsonObject> edit) throws IOException {
        JsonObject o = JsonParser.parseString(Files.readString(VAE.resolve("config.json"))).getAsJsonObject();
        edit.accept(o);
        Path file = Files.createTempDirectory(temp, "vae").resolve("config.json");
        Files.writeString(file, o.toString());
        return file;
    }
}
