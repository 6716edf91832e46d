package dev.instaflow.train.data;

import dev.instaflow.engine.decode.LatentDecoder;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/** Images to float tensors {@code [B,3,H,W]} in [-1, 1] and back, quantised as the SDK's decoder quantises. */
public final class PixelTensors {
    private PixelTensors() {
    }

    /** Same-sized images to {@code [B,3,H,W]}, {@code value / 127.5 - 1}. */
    public static Tensor fromImages(List<RgbImage> images) {
        int w = images.get(0).width();
        int h = images.get(0).height();
        int plane = w * h;
        float[] values = new float[images.size() * 3 * plane];
        for (int b = 0; b < images.size(); b++) {
            byte[] rgb = images.get(b).rgb();
            int base = b * 3 * plane;
            for (int p = 0; p < plane; p++) {
                for (int c = 0; c < 3; c++) {
                    values[base + c * plane + p] = (rgb[3 * p + c] & 0xFF) / 127.5f - 1f;
                }
            }
        }
        return Tensors.fromFloats(values, images.size(), 3, h, w);
    }

    /** {@code [B,3,H,W]} in about [-1, 1] to images, quantised as the SDK's decoder quantises. */
    public static List<RgbImage> toImages(Tensor pixels) {
        return images(LatentDecoder.quantize(pixels, PipelineTrace.NONE));
    }

    /** uint8 RGB {@code [B,H,W,3]} to images, one bulk copy each. */
    public static List<RgbImage> images(Tensor rgb) {
        Tensor bytes = rgb.contiguous();
        long[] shape = Tensors.shape(bytes);
        int b = (int) shape[0];
        int h = (int) shape[1];
        int w = (int) shape[2];
        BytePointer data = new BytePointer(bytes.data_ptr_byte());
        List<RgbImage> out = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            byte[] image = new byte[w * h * 3];
            data.position((long) i * image.length).get(image);
            out.add(new RgbImage(w, h, image));
        }
        return out;
    }
}
