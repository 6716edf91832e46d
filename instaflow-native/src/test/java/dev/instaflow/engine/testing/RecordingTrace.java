package dev.instaflow.engine.testing;

import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.LinkedHashMap;
import java.util.Map;

/** Keeps a host copy (as float64 values and shape) of every tensor a generation records. */
public final class RecordingTrace implements PipelineTrace {
    /** A recorded tensor. */
    public record Recorded(double[] values, long[] shape) {
    }

    private final Map<String, Recorded> tensors = new LinkedHashMap<>();

    @Override
    public boolean enabled() {
        return true;
    }

    @Override
    public synchronized void record(String name, Tensor value) {
        double[] values;
        ScalarType type = Tensors.dtype(value);
        if (type == ScalarType.Long) {
            long[] l = Tensors.toLongs(value);
            values = new double[l.length];
            for (int i = 0; i < l.length; i++) {
                values[i] = l[i];
            }
        } else {
            float[] f = Tensors.toFloats(value.to(ScalarType.Float));
            values = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                values[i] = f[i];
            }
        }
        tensors.put(name, new Recorded(values, Tensors.shape(value)));
    }

    public synchronized Recorded get(String name) {
        Recorded r = tensors.get(name);
        if (r == null) {
            throw new AssertionError("the generation recorded no tensor '" + name + "'; it recorded " + tensors.keySet());
        }
        return r;
    }

    public synchronized boolean has(String name) {
        return tensors.containsKey(name);
    }

    public synchronized java.util.Set<String> names() {
        return tensors.keySet();
    }
}
