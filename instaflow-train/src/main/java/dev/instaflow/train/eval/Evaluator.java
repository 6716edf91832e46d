package dev.instaflow.train.eval;

import dev.instaflow.Sampler;
import dev.instaflow.train.data.Caption;
import dev.instaflow.train.data.CaptionReader;
import dev.instaflow.train.data.CaptionSplit;
import dev.instaflow.train.data.RgbImage;
import dev.instaflow.train.data.Scene;
import dev.instaflow.train.reflow.SdkFlow;
import dev.instaflow.train.training.BatchSource;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;

/**
 * Measures models the way {@code docs/reflow.md} reports them, through the SDK's own sampler and guidance
 * ({@link SdkFlow}), with the same fresh noise for every model:
 * <ul>
 *   <li><b>caption accuracy</b>: the share of images whose caption {@link CaptionReader} reads back equals the
 *       prompt (shape, foreground and background colour all right), on the held-out captions and, separately, on
 *       the training captions;</li>
 *   <li><b>Fréchet distance</b> between {@link ImageFeatures} of the images for the held-out captions and of real
 *       dataset images of the same captions (the same number of each);</li>
 *   <li><b>straightness</b> {@code E |(X1 - X0) - v(X_s, s)|^2} per latent dimension, averaged over the steps of the
 *       Euler trajectory (X1 = its end point), on the held-out captions; with Euler steps it equals
 *       {@code mean_i |v_i|^2 - |X1 - X0|^2}. It is 0 for a perfectly straight flow. Measured on a fine (25-step)
 *       trajectory it is the flow's straightness; on an N-step one it is trivially 0 for N = 1;</li>
 *   <li><b>distance to the ODE end point</b> {@code E |X1(N steps) - X1(reference)|^2} per latent dimension, the
 *       reference being the same noise's end point under a fine solve of the flow (or, for a distilled model, of its
 *       teacher): what few-step sampling (or distillation) loses to curvature.</li>
 * </ul>
 */
public final class Evaluator {
    /**
     * @param perHeldOutCaption images per held-out caption (accuracy, FD, straightness)
     * @param perSeenCaption    images per training caption (accuracy)
     * @param batchSize         images per sampler call
     * @param seed              seed of the noise and the real reference images
     */
    public record Setup(int perHeldOutCaption, int perSeenCaption, int batchSize, long seed) {
    }

    /**
     * One configuration to measure.
     *
     * @param model    the model's name in the table (e.g. {@code 2-RF})
     * @param bundle   its bundle
     * @param steps    Euler steps
     * @param guidance guidance scale (above 1 to guide)
     */
    public record Run(String model, Path bundle, int steps, double guidance) {
        /** Denoiser evaluations per image. */
        public int evaluations() {
            return guidance > 1 ? 2 * steps : steps;
        }
    }

    /**
     * The measurements of one run.
     *
     * @param straightness per-dimension straightness on the held-out captions
     * @param heldOut      caption accuracy on the held-out captions
     * @param seen         caption accuracy on the training captions
     * @param frechet      Fréchet distance to real images of the held-out captions
     * @param distance     distance to the reference end points (NaN without a reference)
     * @param endpoints    the held-out end points, row-major {@code [N, C*h*w]} (a reference for other runs)
     * @param samples      the first image of each held-out caption (for the sample grid)
     */
    public record Row(Run run, double straightness, Accuracy heldOut, Accuracy seen, double frechet,
                      double distance, float[] endpoints, List<RgbImage> samples) {
    }

    /** Exact-caption accuracy and per-part accuracies. */
    public record Accuracy(int images, double caption, double shape, double foreground, double background) {
    }

    private final Setup setup;

    public Evaluator(Setup setup) {
        this.setup = setup;
    }

    /** Real-image features of the held-out captions: {@code stream} 0 is the reference, others are fresh draws. */
    public List<double[]> realFeatures(int side, int stream) {
        List<double[]> features = new ArrayList<>();
        for (Caption caption : CaptionSplit.heldOut()) {
            SplittableRandom random = new SplittableRandom(BatchSource.mix(setup.seed(),
                    Caption.all().indexOf(caption), 8 + 100L * stream));
            for (int i = 0; i < setup.perHeldOutCaption(); i++) {
                features.add(ImageFeatures.of(RgbImage.of(Scene.random(caption, side, random), side)));
            }
        }
        return features;
    }

    /**
     * Measures one run; {@code progress} is told (images done, images in all).
     *
     * @param reference end points of a fine solve for the same noise ({@link Row#endpoints()}), or null
     */
    public Row measure(Run run, List<double[]> realReference, float[] reference, BiConsumer<Integer, Integer> progress) {
        try (SdkFlow flow = SdkFlow.open(run.bundle())) {
            int total = CaptionSplit.heldOut().size() * setup.perHeldOutCaption()
                    + CaptionSplit.training().size() * setup.perSeenCaption();
            int[] done = {0};
            Sampled held = sample(flow, run, CaptionSplit.heldOut(), setup.perHeldOutCaption(), 7, done, total,
                    progress);
            Sampled seen = sample(flow, run, CaptionSplit.training(), setup.perSeenCaption(), 10, done, total,
                    progress);
            List<double[]> features = new ArrayList<>();
            held.images.forEach(im -> features.add(ImageFeatures.of(im)));
            List<RgbImage> firsts = new ArrayList<>();
            for (int c = 0; c < CaptionSplit.heldOut().size(); c++) {
                firsts.add(held.images.get(c * setup.perHeldOutCaption()));
            }
            float[] ends = held.endpoints();
            return new Row(run, held.straightness, accuracy(held), accuracy(seen),
                    FrechetDistance.between(features, realReference), distance(ends, reference),
                    ends, firsts);
        }
    }

    private static final class Sampled {
        final List<RgbImage> images = new ArrayList<>();
        final List<Caption> captions = new ArrayList<>();
        double straightnessSum;
        long straightnessCount;
        double straightness;
        final List<float[]> ends = new ArrayList<>();

        float[] endpoints() {
            int d = ends.get(0).length;
            float[] all = new float[ends.size() * d];
            for (int i = 0; i < ends.size(); i++) {
                System.arraycopy(ends.get(i), 0, all, i * d, d);
            }
            return all;
        }
    }

    private static double distance(float[] a, float[] b) {
        if (b == null) {
            return Double.NaN;
        }
        if (a.length != b.length) {
            throw new IllegalArgumentException("reference has " + b.length + " values, the run " + a.length);
        }
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            sum += d * d;
        }
        return sum / a.length;
    }

    private Sampled sample(SdkFlow flow, Run run, List<Caption> captions, int perCaption, long stream, int[] done,
                           int total, BiConsumer<Integer, Integer> progress) {
        int channels = flow.manifest().latent().channels();
        int side = flow.manifest().image().defaultWidth() / flow.manifest().latent().vaeScaleFactor();
        Sampled out = new Sampled();
        List<String> prompts = new ArrayList<>();
        List<Caption> owners = new ArrayList<>();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            TensorVector noises = new TensorVector();
            for (Caption caption : captions) {
                noises.push_back(torch.randn(new long[] {perCaption, channels, side, side},
                        new GeneratorOptional(torch.createCPUGenerator(BatchSource.mix(setup.seed(),
                                Caption.all().indexOf(caption), stream))), new TensorOptions(ScalarType.Float)));
                for (int i = 0; i < perCaption; i++) {
                    prompts.add(caption.text());
                    owners.add(caption);
                }
            }
            Tensor noise = torch.cat(noises);
            for (int start = 0; start < prompts.size(); start += setup.batchSize()) {
                int m = Math.min(setup.batchSize(), prompts.size() - start);
                try (PointerScope batchScope = new PointerScope()) {
                    Tensor x0 = noise.narrow(0, start, m);
                    Tensor[] previous = {x0};
                    Tensor[] squaredSpeed = {torch.zeros(new long[] {m}, new TensorOptions(ScalarType.Double))};
                    Tensor x1 = flow.sample(prompts.subList(start, start + m), x0, Sampler.euler(), run.steps(),
                            run.guidance(), (i, n, latents) -> {
                                Tensor v = latents.sub(previous[0]).mul(new Scalar((double) n));
                                squaredSpeed[0] = squaredSpeed[0].add(v.to(ScalarType.Double).pow(new Scalar(2))
                                        .flatten(1, -1).sum(new long[] {1}, false,
                                                new org.bytedeco.pytorch.ScalarTypeOptional()));
                                previous[0] = latents;
                            });
                    long dims = x0.numel() / m;
                    Tensor chord = x1.sub(x0).to(ScalarType.Double).pow(new Scalar(2)).flatten(1, -1)
                            .sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
                    Tensor perSample = squaredSpeed[0].div(new Scalar((double) run.steps())).sub(chord)
                            .div(new Scalar((double) dims));
                    out.straightnessSum += perSample.sum().item_double();
                    out.straightnessCount += m;
                    out.images.addAll(flow.decode(x1));
                    float[] flat = dev.instaflow.engine.runtime.Tensors.toFloats(x1);
                    int per = flat.length / m;
                    for (int k = 0; k < m; k++) {
                        out.ends.add(java.util.Arrays.copyOfRange(flat, k * per, (k + 1) * per));
                    }
                    out.captions.addAll(owners.subList(start, start + m));
                }
                done[0] += m;
                progress.accept(done[0], total);
            }
        }
        out.straightness = out.straightnessSum / out.straightnessCount;
        return out;
    }

    private static Accuracy accuracy(Sampled s) {
        int n = s.images.size();
        int all = 0;
        int shape = 0;
        int fg = 0;
        int bg = 0;
        for (int i = 0; i < n; i++) {
            Caption c = s.captions.get(i);
            CaptionReader.Reading r = CaptionReader.read(s.images.get(i));
            all += r.matches(c) ? 1 : 0;
            shape += r.shape().filter(x -> x == c.shape()).isPresent() ? 1 : 0;
            fg += r.foreground().filter(x -> x == c.foreground()).isPresent() ? 1 : 0;
            bg += r.background() == c.background() ? 1 : 0;
        }
        return new Accuracy(n, (double) all / n, (double) shape / n, (double) fg / n, (double) bg / n);
    }
}
