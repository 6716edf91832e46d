// Probe behind docs/performance.md (issue 13): java -cp "instaflow-bench/target/lib/*" instaflow-bench/scripts/FaultProbe.java THREADS
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.*;
import org.bytedeco.pytorch.global.torch;
public class FaultProbe {
  public static void main(String[] a){
    dev.instaflow.engine.runtime.TorchRuntime.ensureLoaded(); torch.set_num_threads(Integer.parseInt(a[0]));
    long n = 1280L*2560*9;
    try (PointerScope sc=new PointerScope(); InferenceMode im=new InferenceMode()){
      Tensor keep = torch.empty(n); keep.fill_(new Scalar(1.0));
      Tensor src = torch.randn(n);
      for (int r=0;r<4;r++){
        long t0=System.nanoTime();
        try (PointerScope s=new PointerScope()){ Tensor e=torch.empty(n); e.copy_(src); }
        long t1=System.nanoTime();
        keep.copy_(src);
        long t2=System.nanoTime();
        System.out.printf("fresh 118MB copy %.1f ms, reused %.1f ms%n",(t1-t0)/1e6,(t2-t1)/1e6);
      }
    }
  }
}
