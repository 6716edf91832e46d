package dev.instaflow.engine.bundle;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.Device;
import dev.instaflow.DeviceUnavailableException;
import dev.instaflow.InstaFlow;
import dev.instaflow.InvalidModelException;
import dev.instaflow.LoadOptions;
import dev.instaflow.engine.authoring.ScriptModuleBuilder;
import dev.instaflow.engine.testing.TinyBundle;
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
 * Every way a bundle can be wrong gives an {@link InvalidModelException} at load that names the file, the field
 * where there is one, and what was expected — never a JVM crash and never an error deep inside a generation.
 */
class InvalidBundleTest {
    static final LoadOptions CPU = LoadOptions.builder().device(Device.cpu()).build();

    @TempDir
    Path temp;

    Path bundle;

    private Path tiny() {
        bundle = TinyBundle.create(temp.resolve("bundle"));
        return bundle;
    }

    private void editManifest(Consumer<JsonObject> edit) throws IOException {
        Path file = bundle.resolve("manifest.json");
        JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        edit.accept(json);
        Files.writeString(file, json.toString());
    }

    private InvalidModelException loadFails() {
        return assertThrows(InvalidModelException.class, () -> InstaFlow.load(bundle, CPU).close());
    }

    private static void assertMentions(InvalidModelException e, String... fragments) {
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should mention '" + f + "'");
        }
    }

    @Test
    void aFieldWithTheWrongTypeIsNamed() throws IOException {
        tiny();
        editManifest(j -> j.getAsJsonObject("latent").addProperty("channels", "four"));
        InvalidModelException e = loadFails();
        assertEquals(bundle.toRealPath().resolve("manifest.json"), e.file());
        assertEquals("latent.channels", e.field().orElseThrow());
        assertMentions(e, "expected an integer", "\"four\"");
    }

    @Test
    void aFractionalIntegerAndAnOutOfRangeValueAreNamed() throws IOException {
        tiny();
        editManifest(j -> j.getAsJsonObject("text").addProperty("max_length", 77.5));
        assertMentions(loadFails(), "text.max_length", "expected an integer");
        editManifest(j -> {
            j.getAsJsonObject("text").addProperty("max_length", 77);
            j.getAsJsonObject("latent").addProperty("scaling_factor", -1);
        });
        assertMentions(loadFails(), "latent.scaling_factor", "> 0");
    }

    @Test
    void aMissingFieldIsNamed() throws IOException {
        tiny();
        editManifest(j -> j.getAsJsonObject("prediction").remove("time_scale"));
        InvalidModelException e = loadFails();
        assertEquals("prediction.time_scale", e.field().orElseThrow());
        assertMentions(e, "is missing");
    }

    @Test
    void aNewerFormatVersionAsksForAnUpgrade() throws IOException {
        tiny();
        editManifest(j -> j.addProperty("format_version", 2));
        InvalidModelException e = loadFails();
        assertEquals("format_version", e.field().orElseThrow());
        assertMentions(e, "format version 2", "reads version 1", "upgrade");
    }

    @Test
    void unknownFieldsAreIgnored() throws IOException {
        tiny();
        editManifest(j -> {
            j.addProperty("added_in_a_later_minor_version", true);
            j.getAsJsonObject("latent").addProperty("future", "x");
        });
        InstaFlow.load(bundle, CPU).close();
    }

    @Test
    void notJsonAndMissingManifestAreReported() throws IOException {
        tiny();
        Files.writeString(bundle.resolve("manifest.json"), "{ not json");
        assertMentions(loadFails(), "manifest.json", "not valid JSON");
        Files.delete(bundle.resolve("manifest.json"));
        assertMentions(loadFails(), "manifest.json", "no bundle manifest");
    }

    @Test
    void partPathsMayNotLeaveTheBundle() throws IOException {
        tiny();
        Files.copy(bundle.resolve("unet.pt"), temp.resolve("outside.pt"));
        editManifest(j -> j.getAsJsonObject("parts").addProperty("denoiser", "../outside.pt"));
        InvalidModelException e = loadFails();
        assertEquals("parts.denoiser", e.field().orElseThrow());
        assertMentions(e, "leaves the bundle directory");

        editManifest(j -> j.getAsJsonObject("parts").addProperty("denoiser", temp.resolve("outside.pt").toString()));
        assertMentions(loadFails(), "parts.denoiser", "absolute");

        Files.createSymbolicLink(bundle.resolve("link.pt"), temp.resolve("outside.pt"));
        editManifest(j -> j.getAsJsonObject("parts").addProperty("denoiser", "link.pt"));
        assertMentions(loadFails(), "parts.denoiser", "symbolic link", "outside the bundle");
    }

    @Test
    void aPartPathThatIsNotAPathIsNamed() throws IOException {
        tiny();
        editManifest(j -> j.getAsJsonObject("parts").addProperty("denoiser", "unet\u0000.pt"));
        assertMentions(loadFails(), "parts.denoiser", "is not a valid path");
    }

    @Test
    void aMissingPartIsNamed() throws IOException {
        tiny();
        Files.delete(bundle.resolve("vae_decoder.pt"));
        InvalidModelException e = loadFails();
        assertEquals("parts.vae_decoder", e.field().orElseThrow());
        assertMentions(e, "vae_decoder.pt", "does not exist");
    }

    @Test
    void aTruncatedTorchScriptFileIsNamed() throws IOException {
        tiny();
        byte[] unet = Files.readAllBytes(bundle.resolve("unet.pt"));
        Files.write(bundle.resolve("unet.pt"), java.util.Arrays.copyOf(unet, unet.length / 2));
        InvalidModelException e = loadFails();
        assertTrue(e.file().endsWith("unet.pt"), e.file().toString());
        assertMentions(e, "not a loadable TorchScript archive");
    }

    @Test
    void aCorruptTorchScriptFileIsNamed() throws IOException {
        tiny();
        byte[] noise = new byte[4096];
        new java.util.Random(1).nextBytes(noise);
        Files.write(bundle.resolve("text_encoder.pt"), noise);
        InvalidModelException e = loadFails();
        assertTrue(e.file().endsWith("text_encoder.pt"));
        assertMentions(e, "parts.text_encoder", "not a loadable TorchScript archive");
    }

    @Test
    void aPartReturningTheWrongRankFailsAtLoad() throws IOException {
        tiny();
        try (ScriptModuleBuilder flat = new ScriptModuleBuilder("FlatUNet")) {
            flat.define("def forward(self, sample: Tensor, timestep: Tensor, encoder_hidden_states: Tensor) -> Tensor:\n"
                    + "    return torch.flatten(sample, 1)\n").save(bundle.resolve("unet.pt"));
        }
        InvalidModelException e = loadFails();
        assertEquals("parts.denoiser", e.field().orElseThrow());
        assertMentions(e, "unet.pt", "load-time check", "rank 2", "expected forward(sample");
    }

    @Test
    void aPartWithTheWrongArityFailsAtLoad() throws IOException {
        tiny();
        try (ScriptModuleBuilder twoInputs = new ScriptModuleBuilder("TwoInputUNet")) {
            twoInputs.define("def forward(self, sample: Tensor, timestep: Tensor) -> Tensor:\n    return sample\n")
                    .save(bundle.resolve("unet.pt"));
        }
        assertMentions(loadFails(), "parts.denoiser", "forward takes 2 input(s); a denoiser part takes 3");
    }

    @Test
    void aTextEncoderWidthDifferentFromTheManifestFailsAtLoad() throws IOException {
        tiny();
        editManifest(j -> j.getAsJsonObject("text").addProperty("hidden_size", 768));
        InvalidModelException e = loadFails();
        assertEquals("parts.text_encoder", e.field().orElseThrow());
        assertMentions(e, "[1, 77, 32]", "768");
    }

    @Test
    void aDecoderScaleDifferentFromTheManifestFailsAtLoad() throws IOException {
        tiny();
        editManifest(j -> {
            j.getAsJsonObject("latent").addProperty("vae_scale_factor", 4);
            j.getAsJsonObject("image").addProperty("size_multiple", 8);
        });
        InvalidModelException e = loadFails();
        assertEquals("parts.vae_decoder", e.field().orElseThrow());
        assertMentions(e, "latent.vae_scale_factor = 4");
    }

    @Test
    void aSizeMultipleThatIsNotAMultipleOfTheVaeFactorIsRejected() throws IOException {
        tiny();
        editManifest(j -> j.getAsJsonObject("image").addProperty("size_multiple", 3));
        assertMentions(loadFails(), "image.size_multiple", "multiple of latent.vae_scale_factor (2)");
    }

    @Test
    void defaultsThatCannotMakeAGenerationAreRefused() throws IOException {
        tiny();
        editManifest(j -> {
            j.getAsJsonObject("prediction").addProperty("type", "epsilon");
            j.getAsJsonObject("prediction").addProperty("timestep", 999);
            j.getAsJsonObject("prediction").addProperty("alpha_bar", 0.0047);
            j.getAsJsonObject("sampling").addProperty("steps", 4);
        });
        assertMentions(loadFails(), "sampling.steps", "exactly 1 step");
        editManifest(j -> {
            j.getAsJsonObject("sampling").addProperty("steps", 1);
            j.getAsJsonObject("sampling").addProperty("guidance", 4.5);
        });
        assertMentions(loadFails(), "sampling.guidance", "takes no guidance");

        tiny2();
        editManifest(j -> j.getAsJsonObject("sampling").addProperty("sampler", "flowturbo:H1P1R1"));
        InvalidModelException e = loadFails();
        assertTrue(e.field().orElseThrow().startsWith("sampling."), e.getMessage());
        editManifest(j -> j.getAsJsonObject("sampling").addProperty("steps", 3));
        assertMentions(loadFails(), "sampling.sampler", "no parts.refiner");
        editManifest(j -> {
            j.getAsJsonObject("sampling").addProperty("sampler", "flowturbo:H1P2");
            j.getAsJsonObject("sampling").addProperty("steps", 25);
        });
        assertMentions(loadFails(), "sampling.steps", "expected 3, the step count of the default sampler");
    }

    private void tiny2() {
        bundle = TinyBundle.create(temp.resolve("bundle2"));
    }

    @Test
    void aCudaTracedBundleIsRefusedOnTheCpuUpFront() throws IOException {
        tiny();
        editManifest(j -> j.addProperty("traced_on", "cuda"));
        InvalidModelException e = loadFails();
        assertEquals("traced_on", e.field().orElseThrow());
        assertMentions(e, "traced on cuda", "Device.cuda()", "--device cpu");
    }

    @Test
    void aHalfPrecisionBundleOnTheCpuSaysWhatToDo() throws IOException {
        tiny();
        editManifest(j -> j.addProperty("dtype", "float16"));
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> InstaFlow.load(bundle, CPU).close());
        assertTrue(e.getMessage().contains("float16") && e.getMessage().contains("--dtype fp32")
                && e.getMessage().contains("LoadOptions.precision(FLOAT32)"), e.getMessage());
    }

    @Test
    void aBundleDirectoryThatDoesNotExistIsNamed() {
        Path missing = temp.resolve("nope");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> InstaFlow.load(missing, CPU));
        assertEquals(missing, e.file());
    }
}
