package dev.instaflow.engine.noise;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.SharedFixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Seeded noise is bit for bit Python torch's CPU randn (the shared rng dumps, seeds up to 2^32 + 7). */
class NoiseSourceTest {
    @BeforeAll
    static void load() {
        TorchRuntime.ensureLoaded();
    }

    static Stream<Arguments> draws() throws IOException {
        Path rng = SharedFixtures.tinySd15().resolve("rng");
        JsonObject manifest = JsonParser.parseString(Files.readString(rng.resolve("manifest.json"))).getAsJsonObject();
        List<Arguments> cases = new ArrayList<>();
        for (JsonElement e : manifest.getAsJsonArray("entries")) {
            JsonObject o = e.getAsJsonObject();
            long[] shape = new long[o.getAsJsonArray("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = o.getAsJsonArray("shape").get(i).getAsLong();
            }
            cases.add(Arguments.of(o.get("name").getAsString(), o.get("seed").getAsLong(), shape,
                    rng.resolve(o.get("name").getAsString() + ".bin")));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("draws")
    void matchesPythonTorchBitForBit(String name, long seed, long[] shape, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int[] expected = new int[b.remaining() / 4];
        b.asIntBuffer().get(expected);
        float[] actual;
        try (PointerScope scope = new PointerScope()) {
            if (name.contains("two_draws")) {
                // Two consecutive draws from one generator: the generator's state carries over between calls.
                long[] one = Arrays.copyOfRange(shape, 1, shape.length);
                Generator g = torch.createCPUGenerator(seed);
                TensorOptions f32 = new TensorOptions(ScalarType.Float);
                float[] first = Tensors.toFloats(torch.randn(one, new GeneratorOptional(g), f32));
                float[] second = Tensors.toFloats(torch.randn(one, new GeneratorOptional(g), f32));
                actual = Arrays.copyOf(first, first.length + second.length);
                System.arraycopy(second, 0, actual, first.length, second.length);
            } else {
                actual = Tensors.toFloats(NoiseSource.seeded(seed, shape));
            }
        }
        assertEquals(expected.length, actual.length);
        int[] bits = new int[actual.length];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = Float.floatToRawIntBits(actual[i]);
        }
        assertArrayEquals(expected, bits, name + ": bitwise equal to torch.randn");
    }
}
