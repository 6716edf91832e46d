// Probe behind docs/performance.md (issue 13): java -cp "instaflow-bench/target/lib/*" instaflow-bench/scripts/LinProbe.java THREADS
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.*;
import org.bytedeco.pytorch.global.torch;
public class LinProbe {
  static double t(Runnable r){ double best=1e9; for(int i=0;i<5;i++){ long s=System.nanoTime(); try(PointerScope sc=new PointerScope()){ r.run(); } best=Math.min(best,(System.nanoTime()-s)/1e6);} return best; }
  public static void main(String[] a){
    dev.instaflow.engine.runtime.TorchRuntime.ensureLoaded(); torch.set_num_threads(Integer.parseInt(a[0]));
    long[][] cases={{1024,128,1024},{1024,512,128},{1024,128,128},{256,256,2048},{64,512,4096},{4096,320,2560},{4096,1280,320}};
    try (PointerScope sc=new PointerScope(); InferenceMode im=new InferenceMode()){
      for (long[] c: cases){ long m=c[0], k=c[1], n=c[2];
        Tensor x=torch.randn(1,m,k), w=torch.randn(n,k).mul(new Scalar(0.05)), b=torch.randn(n); TensorOptional bo=new TensorOptional(b);
        Tensor wm=w.to_mkldnn();
        Runnable blas=()->torch.linear(x,w,bo).sum().item_float();
        Runnable dnn=()->torch.mkldnn_linear(x.to_mkldnn(),wm,bo).to_dense().sum().item_float();
        double d=torch.max(torch.abs(torch.linear(x,w,bo).sub(torch.mkldnn_linear(x.to_mkldnn(),wm,bo).to_dense()))).item_float();
        t(blas); t(dnn); double tb=t(blas), td=t(dnn); double gf=2.0*m*k*n/1e9;
        System.out.printf("tokens %d %d->%d: OpenBLAS %.2f ms (%.0f GFLOP/s), oneDNN %.2f ms (%.0f GFLOP/s), d %.1e%n", m,k,n,tb,gf/tb*1e3,td,gf/td*1e3,d);
      }
    }
  }
}
