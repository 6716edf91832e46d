package dev.instaflow.engine.decode;

import dev.instaflow.engine.runtime.DeviceExecution;
import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.ArrayList;
import java.util.List;

/**
 * uint8 BGR pixels {@code [B, H, W, 3]} to {@link BufferedImage}s of type {@code TYPE_3BYTE_BGR}: the tensor comes
 * to the host in one transfer (through page-locked memory on a GPU) and each image's raster is filled by one bulk
 * copy straight into its backing array; no per-pixel calls.
 */
public final class ImageConverter {
    private ImageConverter() {
    }

    /** Brings the pixels to the host (the generation's one synchronisation on a GPU) and fills the images. */
    public static List<BufferedImage> toImages(Tensor bgr, DeviceExecution execution) {
        Tensor host = execution.download(bgr).contiguous();
        execution.synchronize();
        long[] shape = Tensors.shape(host);
        int batch = Math.toIntExact(shape[0]);
        int height = Math.toIntExact(shape[1]);
        int width = Math.toIntExact(shape[2]);
        long bytesPerImage = (long) width * height * 3;
        BytePointer data = new BytePointer(host.data_ptr_byte());
        List<BufferedImage> images = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
            byte[] raster = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
            data.position(b * bytesPerImage).get(raster);
            images.add(image);
        }
        return images;
    }
}
