package dev.instaflow.bench;

import dev.instaflow.engine.nn.unet.UNetConfig;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Writes diffusers' {@code UNet2DConditionModel} (the configurations the SDK's Java UNet accepts) as an ONNX graph,
 * opset 17, from the same weights, so ONNX Runtime and the SDK run the same network without a Python export. The
 * graph is what {@code torch.onnx.export} makes of diffusers' UNet: Conv, GroupNorm as Reshape +
 * InstanceNormalization + affine, LayerNormalization, MatMul attention with Softmax, GEGLU with Erf, nearest Resize,
 * Concat skips. Static latent size, dynamic batch (dimension {@code batch}); inputs {@code sample} [B, 4, h, w],
 * {@code timestep} float32 [1], {@code encoder_hidden_states} [B, L, D]; output {@code out_sample}. Weights go to
 * one external-data file beside the model (no 2 GB protobuf limit). The protobuf is written by hand (wire format),
 * so the bench needs no ONNX library.
 */
final class OnnxUNetWriter {
    private final UNetConfig c;
    private final Function<String, Tensor> weights;
    private final List<byte[]> nodes = new ArrayList<>();
    private final List<byte[]> initializers = new ArrayList<>();
    private final Map<String, String> constants = new HashMap<>();
    private final OutputStream data;
    private final String dataName;
    private long offset;
    private int counter;

    private OnnxUNetWriter(UNetConfig c, Function<String, Tensor> weights, OutputStream data, String dataName) {
        this.c = c;
        this.weights = weights;
        this.data = data;
        this.dataName = dataName;
    }

    /**
     * @param weights dense float32 tensor by full diffusers key
     * @param latent  latent height = width the graph is made for
     */
    static void write(UNetConfig c, Function<String, Tensor> weights, int latent, Path model) throws IOException {
        String dataName = model.getFileName() + ".data";
        try (OutputStream data = new java.io.BufferedOutputStream(Files.newOutputStream(model.resolveSibling(dataName)),
                1 << 20)) {
            OnnxUNetWriter w = new OnnxUNetWriter(c, weights, data, dataName);
            byte[] graph = w.graph(latent);
            Pb opset = new Pb().string(1, "").varint(2, 17);
            Pb m = new Pb().varint(1, 8).string(2, "instaflow-bench").message(8, opset.bytes()).message(7, graph);
            Files.write(model, m.bytes());
        }
    }

    private byte[] graph(int latent) {
        int[] boc = c.blockOutChannels();
        int n = c.blocks();
        // time embedding
        String t = node("Unsqueeze", List.of("timestep", longs(1)), Map.of());
        int half = boc[0] / 2;
        float[] freqs = new float[half];
        for (int i = 0; i < half; i++) {
            float e = (float) (-Math.log(10000) * i);
            freqs[i] = (float) Math.exp(e / (float) (half - c.freqShift()));
        }
        String arg = node("Mul", List.of(t, floats(new long[] {1, half}, freqs)), Map.of());
        String sin = node("Sin", List.of(arg), Map.of());
        String cos = node("Cos", List.of(arg), Map.of());
        String proj = node("Concat", c.flipSinToCos() ? List.of(cos, sin) : List.of(sin, cos), Map.of("axis", 1L));
        String emb = linear(silu(linear(proj, "time_embedding.linear_1")), "time_embedding.linear_2");
        String h = conv("sample", "conv_in", 1, 1);
        int size = latent;
        List<String> skips = new ArrayList<>();
        List<int[]> skipShapes = new ArrayList<>();
        skips.add(h);
        int ch = boc[0];
        for (int i = 0; i < n; i++) {
            String p = "down_blocks." + i;
            int out = boc[i];
            for (int j = 0; j < c.layersPerBlock()[i]; j++) {
                h = resnet(h, emb, p + ".resnets." + j, j == 0 ? ch : out, out, size, 1.0);
                if (c.downBlockTypes().get(i).equals("CrossAttnDownBlock2D")) {
                    h = transformer(h, p + ".attentions." + j, out, c.numAttentionHeads()[i],
                            c.transformerLayersPerBlock()[i], size);
                }
                skips.add(h);
            }
            ch = out;
            if (i < n - 1) {
                h = conv(h, p + ".downsamplers.0.conv", 2, c.downsamplePadding());
                size /= 2;
                skips.add(h);
            }
        }
        int last = n - 1;
        h = resnet(h, emb, "mid_block.resnets.0", ch, ch, size, c.midBlockScaleFactor());
        h = transformer(h, "mid_block.attentions.0", ch, c.numAttentionHeads()[last],
                c.transformerLayersPerBlock()[last], size);
        h = resnet(h, emb, "mid_block.resnets.1", ch, ch, size, c.midBlockScaleFactor());
        for (int i = 0; i < n; i++) {
            int mirrored = n - 1 - i;
            String p = "up_blocks." + i;
            int out = boc[mirrored];
            int prevOut = boc[Math.min(mirrored + 1, n - 1)];
            int in = boc[Math.max(mirrored - 1, 0)];
            int layers = c.layersPerBlock()[mirrored] + 1;
            for (int j = 0; j < layers; j++) {
                int skip = j == layers - 1 ? in : out;
                int resnetIn = j == 0 ? prevOut : out;
                String s = skips.remove(skips.size() - 1);
                h = node("Concat", List.of(h, s), Map.of("axis", 1L));
                h = resnet(h, emb, p + ".resnets." + j, resnetIn + skip, out, size, 1.0);
                if (c.upBlockTypes().get(i).equals("CrossAttnUpBlock2D")) {
                    h = transformer(h, p + ".attentions." + j, out, c.numAttentionHeads()[mirrored],
                            c.transformerLayersPerBlock()[mirrored], size);
                }
            }
            if (i < n - 1) {
                h = node("Resize", List.of(h, "", floats(new long[] {4}, new float[] {1, 1, 2, 2})),
                        Map.of("mode", "nearest", "coordinate_transformation_mode", "asymmetric",
                                "nearest_mode", "floor"));
                size *= 2;
                h = conv(h, p + ".upsamplers.0.conv", 1, 1);
            }
        }
        h = silu(groupNorm(h, "conv_norm_out", boc[0], size, c.normEps()));
        String out = conv(h, "conv_out", 1, 1);
        nodes.add(new Pb().string(1, out).string(2, "out_sample").string(4, "Identity").bytes());

        Pb g = new Pb();
        for (byte[] nd : nodes) {
            g.message(1, nd);
        }
        g.string(2, "unet");
        for (byte[] init : initializers) {
            g.message(5, init);
        }
        g.message(11, valueInfo("sample", "batch", c.inChannels(), latent, latent));
        g.message(11, valueInfo("timestep", 1));
        g.message(11, valueInfo("encoder_hidden_states", "batch", "tokens", c.crossAttentionDim()));
        g.message(12, valueInfo("out_sample", "batch", c.outChannels(), latent, latent));
        return g.bytes();
    }

    private String resnet(String x, String emb, String p, int in, int out, int size, double scale) {
        String h = conv(silu(groupNorm(x, p + ".norm1", in, size, c.normEps())), p + ".conv1", 1, 1);
        String t = linear(silu(emb), p + ".time_emb_proj");
        t = node("Unsqueeze", List.of(t, longs(2, 3)), Map.of());
        h = node("Add", List.of(h, t), Map.of());
        h = conv(silu(groupNorm(h, p + ".norm2", out, size, c.normEps())), p + ".conv2", 1, 1);
        String shortcut = in != out ? conv(x, p + ".conv_shortcut", 1, 0) : x;
        String sum = node("Add", List.of(shortcut, h), Map.of());
        return scale == 1.0 ? sum : node("Div", List.of(sum, scalar((float) scale)), Map.of());
    }

    private String transformer(String x, String p, int channels, int heads, int layers, int size) {
        int headDim = channels / heads;
        int inner = heads * headDim;
        long hw = (long) size * size;
        String h = groupNorm(x, p + ".norm", channels, size, 1e-6);
        if (!c.useLinearProjection()) {
            h = conv(h, p + ".proj_in", 1, 0);
            h = node("Transpose", List.of(h), Map.of("perm", new long[] {0, 2, 3, 1}));
            h = node("Reshape", List.of(h, longs(0, hw, inner)), Map.of());
        } else {
            h = node("Transpose", List.of(h), Map.of("perm", new long[] {0, 2, 3, 1}));
            h = node("Reshape", List.of(h, longs(0, hw, channels)), Map.of());
            h = linear(h, p + ".proj_in");
        }
        for (int i = 0; i < layers; i++) {
            String b = p + ".transformer_blocks." + i;
            String a1 = attention(layerNorm(h, b + ".norm1"), null, b + ".attn1", heads, headDim);
            h = node("Add", List.of(a1, h), Map.of());
            String a2 = attention(layerNorm(h, b + ".norm2"), "encoder_hidden_states", b + ".attn2", heads, headDim);
            h = node("Add", List.of(a2, h), Map.of());
            String ff = linear(layerNorm(h, b + ".norm3"), b + ".ff.net.0.proj");
            long f = inner * 4L;
            String[] parts = split(ff, f);
            String gated = node("Mul", List.of(parts[0], gelu(parts[1])), Map.of());
            h = node("Add", List.of(linear(gated, b + ".ff.net.2"), h), Map.of());
        }
        if (c.useLinearProjection()) {
            h = linear(h, p + ".proj_out");
            h = node("Reshape", List.of(h, longs(0, size, size, channels)), Map.of());
            h = node("Transpose", List.of(h), Map.of("perm", new long[] {0, 3, 1, 2}));
        } else {
            h = node("Reshape", List.of(h, longs(0, size, size, inner)), Map.of());
            h = node("Transpose", List.of(h), Map.of("perm", new long[] {0, 3, 1, 2}));
            h = conv(h, p + ".proj_out", 1, 0);
        }
        return node("Add", List.of(h, x), Map.of());
    }

    private String attention(String x, String context, String p, int heads, int headDim) {
        String kv = context == null ? x : context;
        String q = linear(x, p + ".to_q");
        String k = linear(kv, p + ".to_k");
        String v = linear(kv, p + ".to_v");
        String shape = longs(0, 0, heads, headDim);
        q = node("Transpose", List.of(node("Reshape", List.of(q, shape), Map.of())),
                Map.of("perm", new long[] {0, 2, 1, 3}));
        k = node("Transpose", List.of(node("Reshape", List.of(k, shape), Map.of())),
                Map.of("perm", new long[] {0, 2, 3, 1}));
        v = node("Transpose", List.of(node("Reshape", List.of(v, shape), Map.of())),
                Map.of("perm", new long[] {0, 2, 1, 3}));
        String scores = node("Mul", List.of(node("MatMul", List.of(q, k), Map.of()),
                scalar((float) Math.pow(headDim, -0.5))), Map.of());
        String probs = node("Softmax", List.of(scores), Map.of("axis", -1L));
        String o = node("Transpose", List.of(node("MatMul", List.of(probs, v), Map.of())),
                Map.of("perm", new long[] {0, 2, 1, 3}));
        o = node("Reshape", List.of(o, longs(0, 0, (long) heads * headDim)), Map.of());
        return linear(o, p + ".to_out.0");
    }

    private String[] split(String x, long each) {
        String a = name();
        String b = name();
        nodes.add(new Pb().string(1, x).string(1, longs(each, each)).string(2, a).string(2, b).string(3, a)
                .string(4, "Split").message(5, attr("axis", -1L)).bytes());
        return new String[] {a, b};
    }

    private String gelu(String x) {
        String e = node("Erf", List.of(node("Div", List.of(x, scalar((float) Math.sqrt(2))), Map.of())), Map.of());
        String y = node("Mul", List.of(x, node("Add", List.of(e, scalar(1f)), Map.of())), Map.of());
        return node("Mul", List.of(y, scalar(0.5f)), Map.of());
    }

    private String silu(String x) {
        return node("Mul", List.of(x, node("Sigmoid", List.of(x), Map.of())), Map.of());
    }

    private String groupNorm(String x, String p, int channels, int size, double eps) {
        int groups = c.normNumGroups();
        float[] ones = new float[groups];
        java.util.Arrays.fill(ones, 1f);
        String r = node("Reshape", List.of(x, longs(0, groups, -1)), Map.of());
        String in = node("InstanceNormalization", List.of(r, floats(new long[] {groups}, ones),
                floats(new long[] {groups}, new float[groups])), Map.of("epsilon", (float) eps));
        String back = node("Reshape", List.of(in, longs(0, channels, size, size)), Map.of());
        String g = weight(p + ".weight", new long[] {channels, 1, 1}, false);
        String b = weight(p + ".bias", new long[] {channels, 1, 1}, false);
        return node("Add", List.of(node("Mul", List.of(back, g), Map.of()), b), Map.of());
    }

    private String layerNorm(String x, String p) {
        return node("LayerNormalization", List.of(x, weight(p + ".weight", null, false),
                weight(p + ".bias", null, false)), Map.of("axis", -1L, "epsilon", 1e-5f));
    }

    private String linear(String x, String p) {
        String y = node("MatMul", List.of(x, weight(p + ".weight", null, true)), Map.of());
        Tensor bias = weights.apply(p + ".bias");
        return bias == null ? y : node("Add", List.of(y, weight(p + ".bias", null, false)), Map.of());
    }

    private String conv(String x, String p, int stride, int pad) {
        Tensor w = weights.apply(p + ".weight");
        long k = w.size(2);
        return node("Conv", List.of(x, weight(p + ".weight", null, false), weight(p + ".bias", null, false)),
                Map.of("kernel_shape", new long[] {k, k}, "strides", new long[] {stride, stride},
                        "pads", new long[] {pad, pad, pad, pad}));
    }

    /** An initializer from the weights under {@code key}, transposed ([out, in] → [in, out]) or reshaped. */
    private String weight(String key, long[] shape, boolean transpose) {
        Tensor t = weights.apply(key);
        if (t == null) {
            throw new IllegalArgumentException("no weight " + key);
        }
        try (PointerScope s = new PointerScope()) {
            Tensor d = transpose ? t.t().contiguous() : t.contiguous();
            long[] dims = shape != null ? shape : Tensors.shape(d);
            return initializer(key + (transpose ? ".T" : ""), dims, Tensors.toFloats(d));
        }
    }

    private String floats(long[] dims, float[] values) {
        return initializer("const" + (counter++), dims, values);
    }

    private String scalar(float v) {
        return constants.computeIfAbsent("f" + v, k -> initializer("scalar" + (counter++), new long[0],
                new float[] {v}));
    }

    private String longs(long... values) {
        StringBuilder key = new StringBuilder("l");
        for (long v : values) {
            key.append(',').append(v);
        }
        return constants.computeIfAbsent(key.toString(), k -> {
            String name = "shape" + (counter++);
            Pb t = new Pb().varint(1, values.length).varint(2, 7).string(8, name);
            ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : values) {
                b.putLong(v);
            }
            t.bytes(9, b.array());
            initializers.add(t.bytes());
            return name;
        });
    }

    private String initializer(String name, long[] dims, float[] values) {
        Pb t = new Pb();
        for (long d : dims) {
            t.varint(1, d);
        }
        t.varint(2, 1).string(8, name);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        if (values.length <= 4096) { // small constants inline: shape inference reads some (Resize scales)
            t.bytes(9, b.array());
            initializers.add(t.bytes());
            return name;
        }
        try {
            data.write(b.array());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        t.message(13, new Pb().string(1, "location").string(2, dataName).bytes());
        t.message(13, new Pb().string(1, "offset").string(2, Long.toString(offset)).bytes());
        t.message(13, new Pb().string(1, "length").string(2, Long.toString(b.capacity())).bytes());
        t.varint(14, 1);
        offset += b.capacity();
        initializers.add(t.bytes());
        return name;
    }

    private String node(String op, List<String> inputs, Map<String, Object> attrs) {
        String out = name();
        Pb nd = new Pb();
        for (String in : inputs) {
            nd.string(1, in);
        }
        nd.string(2, out).string(3, out).string(4, op);
        attrs.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(a -> nd.message(5, attr(a.getKey(), a.getValue())));
        nodes.add(nd.bytes());
        return out;
    }

    private static byte[] attr(String name, Object v) {
        Pb a = new Pb().string(1, name);
        if (v instanceof Long l) {
            a.varint(3, l).varint(20, 2);
        } else if (v instanceof Float f) {
            a.fixed32(2, Float.floatToIntBits(f)).varint(20, 1);
        } else if (v instanceof String s) {
            a.string(4, s).varint(20, 3);
        } else if (v instanceof long[] ls) {
            for (long l : ls) {
                a.varint(8, l);
            }
            a.varint(20, 7);
        } else {
            throw new IllegalArgumentException(name);
        }
        return a.bytes();
    }

    private static byte[] valueInfo(String name, Object... dims) {
        Pb shape = new Pb();
        for (Object d : dims) {
            shape.message(1, d instanceof String s ? new Pb().string(2, s).bytes()
                    : new Pb().varint(1, ((Number) d).longValue()).bytes());
        }
        Pb tensor = new Pb().varint(1, 1).message(2, shape.bytes());
        return new Pb().string(1, name).message(2, new Pb().message(1, tensor.bytes()).bytes()).bytes();
    }

    private String name() {
        return "v" + (counter++);
    }

    /** Protobuf wire format, just what ONNX needs. */
    private static final class Pb {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        Pb varint(int field, long v) {
            raw((long) field << 3);
            raw(v);
            return this;
        }

        Pb fixed32(int field, int v) {
            raw(((long) field << 3) | 5);
            for (int i = 0; i < 4; i++) {
                out.write((v >>> (8 * i)) & 0xFF);
            }
            return this;
        }

        Pb bytes(int field, byte[] b) {
            raw(((long) field << 3) | 2);
            raw(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Pb string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Pb message(int field, byte[] m) {
            return bytes(field, m);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
