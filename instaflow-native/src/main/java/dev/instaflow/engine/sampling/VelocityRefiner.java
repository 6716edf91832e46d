package dev.instaflow.engine.sampling;

import dev.instaflow.InferenceException;
import dev.instaflow.InvalidModelException;
import dev.instaflow.engine.bundle.Bundle;
import dev.instaflow.engine.bundle.BundleManifest;
import dev.instaflow.engine.runtime.DeviceContext;
import dev.instaflow.engine.runtime.Shapes;
import dev.instaflow.engine.network.RefinerNetwork;
import dev.instaflow.engine.runtime.TorchScriptPart;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.nio.file.Path;

/**
 * FlowTurbo's velocity refiner, an optional part: {@code (x [B,C,h,w], v [B,C,h,w], s float32 [B]) -> delta_v}. It
 * runs on the un-doubled batch with the already guided velocity and paper time s (0 = noise, 1 = data); see
 * {@code docs/samplers.md}.
 */
public final class VelocityRefiner implements AutoCloseable {
    public static final String SIGNATURE = "(x: [B,C,h,w], v: [B,C,h,w], s: float32 [B]) -> delta_v [B,C,h,w]";

    private final RefinerNetwork part;
    private final DeviceContext context;

    public VelocityRefiner(RefinerNetwork part, DeviceContext context) {
        this.part = part;
        this.context = context;
    }

    public static VelocityRefiner load(Path file, DeviceContext context) {
        return new VelocityRefiner(TorchScriptPart.load("velocity refiner", file, "parts.refiner", 3, SIGNATURE,
                context), context);
    }

    public static VelocityRefiner load(Bundle bundle, DeviceContext context) {
        return load(bundle.refiner().orElseThrow(), context);
    }

    /** The velocity correction at {@code (x, v, s)}, float32. */
    public Tensor refine(Tensor x, Tensor v, Tensor s) {
        Tensor out = part.refine(context.toModelDtype(x), context.toModelDtype(v), s);
        String problem = Shapes.mismatch(out, x.sizes().vec().get());
        if (problem != null) {
            throw new InferenceException("the velocity refiner part (" + part.source().getFileName() + ") returned "
                    + problem + " (the latent's shape)", null);
        }
        return context.toFloat32(out);
    }

    /** Runs the part once on the smallest latent and checks the output shape. */
    public void validate(BundleManifest manifest) {
        int side = manifest.image().sizeMultiple() / manifest.latent().vaeScaleFactor();
        Tensor x = torch.zeros(new long[] {1, manifest.latent().channels(), side, side},
                context.options(ScalarType.Float));
        Tensor s = torch.zeros(new long[] {1}, context.options(ScalarType.Float));
        try {
            refine(x, x, s);
        } catch (InferenceException e) {
            throw new InvalidModelException(part.source(), part.field(), "failed its load-time check: "
                    + e.getMessage() + "; expected forward" + SIGNATURE + manifest.loadHint(context.isCuda(), context.precision()), e);
        }
    }

    @Override
    public void close() {
        part.close();
    }
}
