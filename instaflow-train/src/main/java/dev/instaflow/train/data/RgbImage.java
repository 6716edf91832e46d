package dev.instaflow.train.data;

import java.awt.image.BufferedImage;

/**
 * A small RGB image as bytes, row-major {@code height x width x 3}: the form the dataset draws and the caption
 * reader reads.
 *
 * @param width  pixels
 * @param height pixels
 * @param rgb    {@code width * height * 3} bytes
 */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if (rgb.length != width * height * 3) {
            throw new IllegalArgumentException("expected " + width * height * 3 + " bytes for " + width + "x" + height
                    + " RGB, got " + rgb.length);
        }
    }

    public static RgbImage of(Scene scene, int side) {
        return new RgbImage(side, side, scene.render(side));
    }

    /** The pixels of any {@link BufferedImage}. */
    public static RgbImage of(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < argb.length; i++) {
            rgb[3 * i] = (byte) (argb[i] >> 16);
            rgb[3 * i + 1] = (byte) (argb[i] >> 8);
            rgb[3 * i + 2] = (byte) argb[i];
        }
        return new RgbImage(w, h, rgb);
    }

    public int red(int x, int y) {
        return rgb[(y * width + x) * 3] & 0xFF;
    }

    public int green(int x, int y) {
        return rgb[(y * width + x) * 3 + 1] & 0xFF;
    }

    public int blue(int x, int y) {
        return rgb[(y * width + x) * 3 + 2] & 0xFF;
    }

    public BufferedImage toBufferedImage() {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] argb = new int[width * height];
        for (int i = 0; i < argb.length; i++) {
            argb[i] = ((rgb[3 * i] & 0xFF) << 16) | ((rgb[3 * i + 1] & 0xFF) << 8) | (rgb[3 * i + 2] & 0xFF);
        }
        image.setRGB(0, 0, width, height, argb, 0, width);
        return image;
    }
}
