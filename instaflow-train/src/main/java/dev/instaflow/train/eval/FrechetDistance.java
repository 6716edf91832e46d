package dev.instaflow.train.eval;

import dev.instaflow.engine.runtime.TorchRuntime;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.List;

/**
 * The Fréchet distance between Gaussians fitted to two feature sets:
 * {@code |mu1 - mu2|^2 + tr(C1) + tr(C2) - 2 tr((C1 C2)^(1/2))}, in float64. The trace of the matrix square root
 * is computed as the sum of the square roots of the eigenvalues of the symmetric {@code A C2 A} with
 * {@code A = C1^(1/2)} (same spectrum as {@code C1 C2}), negative round-off eigenvalues clamped to 0.
 */
public final class FrechetDistance {
    private FrechetDistance() {
    }

    public static double between(List<double[]> a, List<double[]> b) {
        TorchRuntime.ensureLoaded();
        try (PointerScope scope = new PointerScope()) {
            Tensor x = matrix(a);
            Tensor y = matrix(b);
            Tensor muX = x.mean(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
            Tensor muY = y.mean(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
            Tensor cx = covariance(x, muX);
            Tensor cy = covariance(y, muY);
            double meanTerm = muX.sub(muY).pow(new Scalar(2)).sum().item_double();
            Tensor rootX = symmetricSqrt(cx);
            Tensor inner = rootX.matmul(cy).matmul(rootX);
            inner = inner.add(inner.transpose(0, 1)).div(new Scalar(2));
            Tensor eig = torch.linalg_eigvalsh(inner).clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional());
            double traceRoot = eig.sqrt().sum().item_double();
            return meanTerm + cx.trace().item_double() + cy.trace().item_double() - 2 * traceRoot;
        }
    }

    private static Tensor matrix(List<double[]> rows) {
        int n = rows.size();
        int d = rows.get(0).length;
        double[] flat = new double[n * d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(rows.get(i), 0, flat, i * d, d);
        }
        return torch.from_blob(new DoublePointer(flat), new long[] {n, d}, new TensorOptions(ScalarType.Double))
                .clone();
    }

    private static Tensor covariance(Tensor x, Tensor mu) {
        Tensor centred = x.sub(mu);
        return centred.transpose(0, 1).matmul(centred).div(new Scalar(x.size(0) - 1));
    }

    private static Tensor symmetricSqrt(Tensor c) {
        var eig = torch.linalg_eigh(c);
        Tensor values = eig.get0().clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional()).sqrt();
        Tensor vectors = eig.get1();
        return vectors.mul(values.unsqueeze(0)).matmul(vectors.transpose(0, 1));
    }
}
