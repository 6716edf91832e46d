// Times one conv2d at UNet shapes through three backends, interleaved, and checks they agree:
//   eager   torch.conv2d on the plain OIHW weight (oneDNN re-lays out the weight on every call)
//   packed  the weight reordered once into oneDNN's blocked layout (to_mkldnn + mkldnn_reorder_conv2d_weight),
//           then mkldnn_convolution on a dense input (dense output)
//   gemm    im2col (or a view, for 1x1) + matmul with the [out, in*k*k] weight (BLAS sgemm, no reorder)
// java -cp "instaflow-bench/target/lib/*" instaflow-bench/scripts/ConvBackendProbe.java [threads] [reps]
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.*;
import org.bytedeco.pytorch.global.torch;

public class ConvBackendProbe {
    interface Op { Tensor run(); }

    static double time(Op op) {
        try (PointerScope sc = new PointerScope()) {
            long t = System.nanoTime();
            Tensor y = op.run();
            y.sum().item_float();
            return (System.nanoTime() - t) / 1e6;
        }
    }

    static double median(double[] v) { double[] c = v.clone(); java.util.Arrays.sort(c); return c[c.length / 2]; }

    public static void main(String[] a) {
        dev.instaflow.engine.runtime.TorchRuntime.ensureLoaded();
        int threads = a.length > 0 ? Integer.parseInt(a[0]) : 2;
        int reps = a.length > 1 ? Integer.parseInt(a[1]) : 3;
        torch.set_num_threads(threads);
        // in, out, spatial, kernel, batch
        long[][] cases = {{2560, 1280, 8, 3, 1}, {1280, 1280, 8, 3, 1}, {2560, 1280, 16, 3, 1}, {1920, 1280, 16, 3, 1},
                {2560, 1280, 8, 1, 1}, {1280, 640, 32, 3, 1}, {640, 640, 32, 3, 1}, {320, 320, 64, 3, 1},
                {960, 320, 64, 3, 1}, {4, 320, 64, 3, 1}, {320, 4, 64, 3, 1}, {320, 320, 64, 1, 1},
                {128, 128, 32, 3, 1}, {128, 128, 32, 3, 4}, {512, 512, 4, 3, 1}, {512, 512, 4, 3, 4},
                {32, 32, 16, 3, 1}, {32, 32, 16, 3, 2}, {32, 32, 16, 3, 8}, {64, 64, 8, 3, 8}};
        System.out.printf("threads %d, load %s%n", threads, load());
        try (PointerScope sc = new PointerScope(); InferenceMode im = new InferenceMode()) {
            for (long[] c : cases) try (PointerScope cs = new PointerScope()) {
                long in = c[0], out = c[1], s = c[2], k = c[3], b = c[4];
                long pad = k / 2;
                long[] st = {1, 1}, pd = {pad, pad}, dl = {1, 1};
                Tensor x = torch.randn(b, in, s, s);
                Tensor w = torch.randn(out, in, k, k).mul(new Scalar(1.0 / Math.sqrt(in * k * k)));
                Tensor bias = torch.randn(out);
                TensorOptional bo = new TensorOptional(bias);
                Tensor packed = torch.mkldnn_reorder_conv2d_weight(w.to_mkldnn(), pd, st, dl, 1, b, in, s, s);
                Tensor wm = w.reshape(out, in * k * k);
                Op eager = () -> torch.conv2d(x, w, bo, st, pd, dl, 1);
                Op pk = () -> torch.mkldnn_convolution(x, packed, bo, pd, st, dl, 1);
                Op gemm = () -> {
                    Tensor cols = k == 1 ? x.reshape(b, in, s * s)
                            : torch.im2col(x, new long[] {k, k}, dl, pd, st);           // [b, in*k*k, s*s]
                    return torch.matmul(wm, cols).add(bias.view(1, out, 1)).view(b, out, s, s);
                };
                Tensor ref = eager.run();
                double dp = torch.max(torch.abs(pk.run().sub(ref))).item_float();
                double dg = torch.max(torch.abs(gemm.run().sub(ref))).item_float();
                double mr = torch.max(torch.abs(ref)).item_float();
                double[] te = new double[reps], tp = new double[reps], tg = new double[reps];
                time(eager); time(pk); time(gemm);
                for (int r = 0; r < reps; r++) { te[r] = time(eager); tp[r] = time(pk); tg[r] = time(gemm); }
                double gflop = 2.0 * b * s * s * in * out * k * k / 1e9;
                System.out.printf("b%d %4d->%4d %2dx%-2d k%d %.3f GFLOP | eager %8.2f | packed %8.2f | gemm %8.2f ms"
                        + " | eager/packed %.2f eager/gemm %.2f | max|d| packed %.1e gemm %.1e (max|ref| %.2f)%n",
                        b, in, out, s, s, k, gflop, median(te), median(tp), median(tg), median(te) / median(tp),
                        median(te) / median(tg), dp, dg, mr);
            } catch (RuntimeException e) {
                System.out.println(java.util.Arrays.toString(c) + ": " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        System.out.printf("load %s%n", load());
    }

    static String load() {
        try { return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim(); }
        catch (Exception e) { return "?"; }
    }
}
