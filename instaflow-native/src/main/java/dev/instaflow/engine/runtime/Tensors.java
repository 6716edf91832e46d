package dev.instaflow.engine.runtime;

import dev.instaflow.engine.EntryPoint;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Copies between Java arrays and host tensors. Every copy is one bulk transfer; nothing here loops over elements
 * through JNI. Tensors made here own their memory (they never alias a Java array), and like every JavaCPP object
 * they belong to the innermost open {@link org.bytedeco.javacpp.PointerScope}.
 */
@EntryPoint("tensors from and to Java arrays: training, tooling, the CLI's bench")
public final class Tensors {
    private Tensors() {
    }

    /** A float32 CPU tensor holding a copy of {@code values}. */
    public static Tensor fromFloats(float[] values, long... shape) {
        FloatPointer p = new FloatPointer(values);
        return org.bytedeco.pytorch.global.torch.from_blob(p, shape, new TensorOptions(ScalarType.Float)).clone();
    }

    /** An int64 CPU tensor holding a copy of {@code values}. */
    public static Tensor fromLongs(long[] values, long... shape) {
        LongPointer p = new LongPointer(values);
        return org.bytedeco.pytorch.global.torch.from_blob(p, shape, new TensorOptions(ScalarType.Long)).clone();
    }

    /** The values of a float32 tensor (on any device), in row-major order. */
    public static float[] toFloats(Tensor t) {
        Tensor host = t.device().is_cpu() ? t : t.cpu();
        Tensor c = dtype(host) == ScalarType.Float ? host.contiguous() : host.to(ScalarType.Float).contiguous();
        float[] out = new float[Math.toIntExact(c.numel())];
        new FloatPointer(c.data_ptr_float()).get(out);
        return out;
    }

    /** The values of an int64 tensor, in row-major order. */
    public static long[] toLongs(Tensor t) {
        Tensor c = (t.device().is_cpu() ? t : t.cpu()).contiguous();
        long[] out = new long[Math.toIntExact(c.numel())];
        new LongPointer(c.data_ptr_long()).get(out);
        return out;
    }

    /** The bytes of a uint8 host tensor into {@code target}, in one copy. */
    public static void copyBytes(Tensor hostUint8, byte[] target) {
        Tensor c = hostUint8.contiguous();
        new BytePointer(c.data_ptr_byte()).get(target);
    }

    /**
     * The tensor's dtype as the canonical enum constant. JavaCPP returns a new enum object from
     * {@code scalar_type()}, so comparing it with {@code ==} is always false; {@code intern()} gives the constant.
     */
    public static ScalarType dtype(Tensor t) {
        return t.scalar_type().intern();
    }

    /** The shape as a Java array. */
    public static long[] shape(Tensor t) {
        return t.sizes().vec().get();
    }

    /** {@code [a, b, c]} for messages. */
    public static String shapeString(Tensor t) {
        return java.util.Arrays.toString(shape(t));
    }
}
