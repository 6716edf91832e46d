package dev.instaflow.train.bundle;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.Sampler;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.train.TestSupport;
import dev.instaflow.train.data.PixelTensors;
import dev.instaflow.train.data.RgbImage;
import dev.instaflow.train.data.Scene;
import dev.instaflow.train.data.Caption;
import dev.instaflow.train.model.ModelConfig;
import dev.instaflow.train.model.PatchDecoder;
import dev.instaflow.train.model.TextEncoderNetwork;
import dev.instaflow.train.model.VelocityNetwork;
import dev.instaflow.train.tokenizer.CaptionIds;
import dev.instaflow.train.training.NetworkPair;
import dev.instaflow.train.training.TrainableModule;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Trained networks become an ordinary bundle that the SDK loads (its probe passes) and runs with any sampler. */
class ModelBundleWriterTest {
    @TempDir
    Path temp;

    @BeforeAll
    static void torch() {
        TestSupport.torchForTests();
    }

    @Test
    void writesABundleTheSdkLoadsAndRuns() throws IOException {
        ModelConfig config = ModelConfig.tiny();
        CaptionIds ids = CaptionIds.load(TestSupport.shippedTokenizer());
        Path dir = temp.resolve("bundle");
        try (NetworkPair networks = new NetworkPair(
                TrainableModule.of(TextEncoderNetwork.build(config, ids.usedIds(), ids.framing().padId(), 1)),
                TrainableModule.of(VelocityNetwork.build(config, 2)))) {
            ModelBundleWriter.write(dir, networks, config, TestSupport.shippedTokenizer(), ids.framing(),
                    new ModelBundleWriter.Defaults("test", "a test", 1, 0.0), Map.of("created_by", "test"));
        }
        BundleManifest m = Bundle.open(dir).manifest();
        assertEquals(48, m.latent().channels());
        assertEquals(4, m.latent().vaeScaleFactor());
        assertEquals(1.0, m.latent().scalingFactor());
        assertEquals(4, m.image().sizeMultiple());
        assertEquals(new dev.instaflow.engine.bundle.Prediction.Velocity(1000.0), m.prediction());

        Set<String> listed = Set.copyOf(Files.readAllLines(dir.resolve(ModelBundleWriter.FILE_INDEX)).stream()
                .filter(l -> !l.isBlank()).toList());
        Set<String> present;
        try (Stream<Path> walk = Files.walk(dir)) {
            present = walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString())
                    .filter(p -> !p.equals(ModelBundleWriter.FILE_INDEX)).collect(Collectors.toSet());
        }
        assertEquals(present, listed, "files.txt lists every file of the bundle");

        try (InstaFlow model = InstaFlow.load(dir, TestSupport.loadOptions())) {
            Generation one = model.generate(GenerationRequest.builder().prompt("a red circle on a blue background")
                    .seed(1).build());
            assertEquals(32, one.image().getWidth());
            assertEquals(1, one.denoiserEvaluations());
            Generation heun = model.generate(GenerationRequest.builder().prompt("a red circle on a blue background")
                    .sampler(Sampler.heun()).steps(2).guidance(2.0).seed(1).build());
            assertEquals(32, heun.image().getHeight());
            Generation big = model.generate(GenerationRequest.builder().prompt("a white square on a black background")
                    .size(64, 48).steps(2).seed(1).build());
            assertEquals(64, big.image().getWidth());
            assertEquals(48, big.image().getHeight());
        }
    }

    @Test
    void thePatchDecoderInvertsThePatchLatents() {
        ModelConfig config = ModelConfig.standard();
        RgbImage image = RgbImage.of(Scene.random(Caption.parse("a yellow triangle on a blue background"), 32,
                new SplittableRandom(1)), 32);
        try (PointerScope scope = new PointerScope()) {
            Tensor latents = PatchDecoder.toLatents(PixelTensors.fromImages(List.of(image)), config);
            assertEquals(List.of(1L, 48L, 8L, 8L), java.util.Arrays.stream(latents.sizes().vec().get()).boxed()
                    .toList());
            RgbImage back = PixelTensors.toImages(PatchDecoder.toImages(latents, config)).get(0);
            assertArrayEquals(image.rgb(), back.rgb());
        }
    }
}
