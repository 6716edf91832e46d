package dev.instaflow.engine.decode;

import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Host-side conversions for image inputs: init images to float32 RGB in [0, 1], an inpainting mask to the latent
 * grid, and pasting original pixels outside the mask into decoded images.
 */
public final class ImageTensors {
    private ImageTensors() {
    }

    /** Float32 {@code [U,3,H,W]} (NCHW) of the images' RGB channels, each {@code value / 255f}. */
    public static Tensor rgb(List<BufferedImage> images) {
        float[] values = rgbValues(images);
        BufferedImage first = images.get(0);
        return Tensors.fromFloats(values, images.size(), 3, first.getHeight(), first.getWidth());
    }

    /** The values of {@link #rgb(List)}. */
    public static float[] rgbValues(List<BufferedImage> images) {
        int w = images.get(0).getWidth();
        int h = images.get(0).getHeight();
        int plane = w * h;
        float[] out = new float[images.size() * 3 * plane];
        int[] row = new int[w];
        for (int b = 0; b < images.size(); b++) {
            BufferedImage image = images.get(b);
            int base = b * 3 * plane;
            for (int y = 0; y < h; y++) {
                image.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int p = row[x];
                    int at = y * w + x;
                    out[base + at] = ((p >> 16) & 0xff) / 255f;
                    out[base + plane + at] = ((p >> 8) & 0xff) / 255f;
                    out[base + 2 * plane + at] = (p & 0xff) / 255f;
                }
            }
        }
        return out;
    }

    /** A mask pixel's grey level in [0, 1]: {@code (R + G + B) / (3 * 255)}. */
    static double grey(int rgb) {
        return (((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff)) / (3.0 * 255.0);
    }

    /**
     * The mask on the latent grid, {@code [h * w]} row-major with h = H / f, w = W / f: each f x f cell's mean grey
     * level, 1 (repaint) where it is at least 0.5, else 0 (keep).
     */
    public static float[] latentMask(BufferedImage mask, int f) {
        int w = mask.getWidth() / f;
        int h = mask.getHeight() / f;
        float[] out = new float[w * h];
        int[] cell = new int[f * f];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                mask.getRGB(x * f, y * f, f, f, cell, 0, f);
                double sum = 0;
                for (int p : cell) {
                    sum += grey(p);
                }
                out[y * w + x] = sum / (f * f) >= 0.5 ? 1f : 0f;
            }
        }
        return out;
    }

    /**
     * Copies of {@code generated} with the original pixels wherever the mask is dark (grey level below 0.5, "keep"):
     * {@code originals.get(index[b])} for image b.
     */
    public static List<BufferedImage> keepUnmasked(List<BufferedImage> generated, List<BufferedImage> originals,
                                                   int[] index, BufferedImage mask) {
        int w = mask.getWidth();
        int h = mask.getHeight();
        int[] maskRow = new int[w];
        int[] outRow = new int[w];
        int[] origRow = new int[w];
        List<BufferedImage> out = new ArrayList<>(generated.size());
        for (int b = 0; b < generated.size(); b++) {
            BufferedImage g = generated.get(b);
            BufferedImage o = originals.get(index[b]);
            BufferedImage r = new BufferedImage(w, h, g.getType());
            for (int y = 0; y < h; y++) {
                mask.getRGB(0, y, w, 1, maskRow, 0, w);
                g.getRGB(0, y, w, 1, outRow, 0, w);
                o.getRGB(0, y, w, 1, origRow, 0, w);
                for (int x = 0; x < w; x++) {
                    if (grey(maskRow[x]) < 0.5) {
                        outRow[x] = origRow[x];
                    }
                }
                r.setRGB(0, y, w, 1, outRow, 0, w);
            }
            out.add(r);
        }
        return out;
    }
}
