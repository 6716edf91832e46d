package dev.instaflow.engine;

import dev.instaflow.engine.decode.ImageEncoder;
import dev.instaflow.engine.decode.ImageTensors;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.PipelineTrace;
import dev.instaflow.engine.runtime.Tensors;
import dev.instaflow.engine.sampling.LatentConstraint;
import dev.instaflow.engine.sampling.MaskBlend;
import dev.instaflow.GenerationSettings;
import dev.instaflow.GenerationSettings.ImageInput;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Optional;

/**
 * Where the sampler starts and what it must respect after each step: the noise for text-to-image; for an init image
 * at strength s, {@code z = s * noise + (1 - s) * x_init} (float32: {@code float(s) * noise}, then
 * {@code (1f - float(s)) * x_init}, then their sum) and, with a mask, the {@link MaskBlend}. At s = 1 the start is
 * the noise itself (no blend is computed), so s = 1 without a mask is text-to-image bit for bit.
 *
 * @param latents    the latents the sampler starts from
 * @param constraint applied after every step
 * @param strength   the strength
 */
record ImageStart(Tensor latents, LatentConstraint constraint, double strength) {
    static ImageStart prepare(GenerationSettings plan, Tensor noise, Optional<ImageEncoder> encoder, int vaeScaleFactor,
                              DeviceContext device, PipelineTrace trace) {
        if (plan.image().isEmpty()) {
            return new ImageStart(noise, LatentConstraint.NONE, 1.0);
        }
        ImageInput input = plan.image().get();
        double s = input.strength();
        if (s == 1.0 && input.mask().isEmpty()) {
            return new ImageStart(noise, LatentConstraint.NONE, 1.0); // the image is not used at all
        }
        ImageEncoder vae = encoder.orElseThrow(() -> new IllegalStateException(
                "the model has no VAE encoder; the request should have been refused"));
        Tensor xInit = vae.encode(device.upload(ImageTensors.rgb(input.images())), trace);
        int[] index = imageIndex(plan);
        if (input.images().size() != plan.batchSize()) {
            xInit = xInit.index_select(0, device.upload(Tensors.fromLongs(toLongs(index), index.length)));
        }
        if (trace.enabled()) {
            trace.record("init_latents", xInit);
        }
        Tensor start = s == 1.0 ? noise : MaskBlend.pathPoint(noise, xInit, (float) s);
        LatentConstraint constraint = LatentConstraint.NONE;
        if (input.mask().isPresent()) {
            BufferedImage mask = input.mask().get();
            float[] m = ImageTensors.latentMask(mask, vaeScaleFactor);
            Tensor repaint = device.upload(Tensors.fromFloats(m, 1, 1, mask.getHeight() / vaeScaleFactor,
                    mask.getWidth() / vaeScaleFactor)).to(ScalarType.Bool);
            if (trace.enabled()) {
                trace.record("latent_mask", repaint.to(ScalarType.Float));
            }
            constraint = new MaskBlend(repaint, noise, xInit);
        }
        if (trace.enabled()) {
            trace.record("start_latents", start);
        }
        return new ImageStart(start, constraint, s);
    }

    /** For each batch item, the index of its init image. */
    static int[] imageIndex(GenerationSettings plan) {
        ImageInput input = plan.image().orElseThrow();
        int[] index = new int[plan.batchSize()];
        for (int b = 0; b < index.length; b++) {
            index[b] = input.imageIndex(b, plan.imagesPerPrompt());
        }
        return index;
    }

    private static long[] toLongs(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    /** The decoded images with the original pixels outside the mask, when the plan asks for it. */
    static List<BufferedImage> composite(GenerationSettings plan, List<BufferedImage> images) {
        if (plan.image().isEmpty() || !plan.image().get().keepUnmaskedPixels()
                || plan.image().get().mask().isEmpty()) {
            return images;
        }
        ImageInput input = plan.image().get();
        return ImageTensors.keepUnmasked(images, input.images(), imageIndex(plan), input.mask().get());
    }
}
