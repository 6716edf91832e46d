package dev.instaflow.train.training;

import dev.instaflow.train.data.Caption;
import dev.instaflow.train.data.PixelTensors;
import dev.instaflow.train.data.RgbImage;
import dev.instaflow.train.data.Scene;
import dev.instaflow.train.model.ModelConfig;
import dev.instaflow.train.model.PatchDecoder;
import dev.instaflow.train.tokenizer.CaptionIds;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * 1-rectified-flow batches: fresh images drawn from the training captions (an endless dataset) paired with
 * independent Gaussian noise. A caption is replaced by the empty prompt with probability {@code dropCaption}, so
 * the model also learns the unconditional flow that classifier-free guidance needs.
 */
public final class ShapeBatches implements BatchSource {
    private final ModelConfig config;
    private final CaptionIds ids;
    private final List<Caption> captions;
    private final int batchSize;
    private final double dropCaption;
    private final long seed;
    private final int positions;

    public ShapeBatches(ModelConfig config, CaptionIds ids, List<Caption> captions, int batchSize, double dropCaption,
                        long seed) {
        this.config = config;
        this.ids = ids;
        this.captions = List.copyOf(captions);
        this.batchSize = batchSize;
        this.dropCaption = dropCaption;
        this.seed = seed;
        this.positions = ids.trainingPositions();
    }

    @Override
    public Batch batch(long step) {
        SplittableRandom random = new SplittableRandom(BatchSource.mix(seed, step, 1));
        List<RgbImage> images = new ArrayList<>(batchSize);
        int[] rows = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            Caption caption = captions.get(random.nextInt(captions.size()));
            rows[b] = random.nextDouble() < dropCaption ? ids.emptyRow() : ids.rowOf(caption);
            images.add(RgbImage.of(Scene.random(caption, config.imageSize(), random), config.imageSize()));
        }
        var x1 = PatchDecoder.toLatents(PixelTensors.fromImages(images), config);
        var x0 = torch.randn(x1.sizes().vec().get(),
                new GeneratorOptional(torch.createCPUGenerator(BatchSource.mix(seed, step, 2))),
                new TensorOptions(ScalarType.Float));
        return new Batch(x0, x1, ids.rows(rows, positions));
    }
}
