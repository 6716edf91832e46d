package dev.instaflow.engine.nn;

import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.runtime.TorchRuntime;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prepacked {@link Conv2d} (oneDNN-blocked weight) computes what eager {@code conv2d} on the plain weight does, at
 * every kernel, stride, batch and size the SD networks use (1×1 ones stay eager), and the state dict then holds the packed weight instead of the plain one.
 */
class ConvPackingTest {
    @BeforeAll
    static void natives() {
        TorchRuntime.ensureLoaded();
    }

    @Test
    void packedConvolutionsMatchEagerOnesAtEveryShape() {
        String before = System.getProperty(ConvPacking.PROPERTY);
        System.setProperty(ConvPacking.PROPERTY, "all"); // these layers are small: pack them anyway
        try {
            packedConvolutionsMatchEagerOnesAtEveryShapeWithAll();
        } finally {
            if (before == null) {
                System.clearProperty(ConvPacking.PROPERTY);
            } else {
                System.setProperty(ConvPacking.PROPERTY, before);
            }
        }
    }

    private void packedConvolutionsMatchEagerOnesAtEveryShapeWithAll() {
        // in, out, kernel, stride, padding
        int[][] layers = {{4, 32, 3, 1, 1}, {32, 32, 3, 1, 1}, {64, 32, 1, 1, 0}, {32, 32, 3, 2, 1}, {48, 4, 3, 1, 1},
                {96, 64, 3, 1, 1}};
        long[][] inputs = {{1, 8}, {2, 16}, {8, 8}, {3, 32}, {1, 64}};
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode();
             StateDict dict = new StateDict("test", Path.of("test.safetensors"))) {
            torch.manual_seed(7);
            for (int i = 0; i < layers.length; i++) {
                int[] l = layers[i];
                Tensor w = torch.randn(l[1], l[0], l[2], l[2]).mul(new Scalar(1.0 / Math.sqrt(l[0] * l[2] * l[2])));
                Tensor b = torch.randn(l[1]);
                dict.put(i + ".weight", w, Path.of("test.safetensors"));
                dict.put(i + ".bias", b, Path.of("test.safetensors"));
                Conv2d conv = Conv2d.load(dict.at(Integer.toString(i)), l[0], l[1], l[2], l[3], l[4]);
                boolean oneByOne = l[2] == 1;
                assertEquals(!oneByOne, conv.packed(), "float32 k×k (k > 1) on the CPU is packed, 1×1 is not");
                assertEquals(!oneByOne, dict.entry(i + ".weight").tensor().is_mkldnn(), "the store holds what runs");
                for (long[] in : inputs) {
                    Tensor x = torch.randn(in[0], l[0], in[1], in[1]);
                    Tensor eager = torch.conv2d(x, w, new TensorOptional(b), new long[] {l[3], l[3]},
                            new long[] {l[4], l[4]}, new long[] {1, 1}, 1);
                    Tensor packed = conv.forward(x);
                    assertFalse(packed.is_mkldnn(), "dense out");
                    assertEquals(Tensors.shapeString(eager), Tensors.shapeString(packed));
                    double diff = torch.max(torch.abs(packed.sub(eager))).item_double();
                    assertTrue(diff <= 1e-5, "layer " + i + " input " + in[0] + "x" + in[1] + ": max |diff| " + diff);
                }
            }
            // a second network built from the same weights takes the packed tensor as it is
            Conv2d again = Conv2d.load(dict.at("0"), 4, 32, 3, 1, 1);
            assertTrue(again.packed());
        }
    }

    @Test
    void byDefaultOnlyWeightsOfAtLeast32MiBArePacked() {
        String before = System.getProperty(ConvPacking.PROPERTY);
        System.clearProperty(ConvPacking.PROPERTY);
        try (PointerScope scope = new PointerScope()) {
            assertTrue(ConvPacking.applies(torch.empty(1280, 1280, 3, 3)), "SD-1.5's 1280->1280 3x3: 59 MB");
            assertFalse(ConvPacking.applies(torch.empty(640, 640, 3, 3)), "640->640 3x3: 14.7 MB stays eager");
            assertFalse(ConvPacking.applies(torch.empty(2560, 1280, 1, 1)), "1x1 stays eager");
        } finally {
            if (before != null) {
                System.setProperty(ConvPacking.PROPERTY, before);
            }
        }
    }

    @Test
    void theEagerSettingKeepsThePlainWeight() {
        String before = System.getProperty(ConvPacking.PROPERTY);
        System.setProperty(ConvPacking.PROPERTY, "eager");
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode();
             StateDict dict = new StateDict("test", Path.of("test.safetensors"))) {
            dict.put("c.weight", torch.randn(8, 4, 3, 3), Path.of("test.safetensors"));
            dict.put("c.bias", torch.randn(8), Path.of("test.safetensors"));
            Conv2d conv = Conv2d.load(dict.at("c"), 4, 8, 3, 1, 1);
            assertFalse(conv.packed());
            assertFalse(dict.entry("c.weight").tensor().is_mkldnn());
        } finally {
            if (before == null) {
                System.clearProperty(ConvPacking.PROPERTY);
            } else {
                System.setProperty(ConvPacking.PROPERTY, before);
            }
        }
    }
}
