// Probe behind docs/performance.md (issue 13): java -cp "instaflow-bench/target/lib/*" instaflow-bench/scripts/AttnProbe.java THREADS
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.*;
import org.bytedeco.pytorch.global.torch;
public class AttnProbe {
  static double t(Runnable r, int reps){ double best=1e9; for(int i=0;i<reps;i++){ long s=System.nanoTime(); try(PointerScope sc=new PointerScope()){ r.run(); } best=Math.min(best,(System.nanoTime()-s)/1e6);} return best; }
  public static void main(String[] a){
    dev.instaflow.engine.runtime.TorchRuntime.ensureLoaded(); torch.set_num_threads(Integer.parseInt(a[0]));
    long[][] cases={{1,8,256,256,4},{8,8,256,256,4},{8,8,256,77,4},{1,8,1024,1024,16},{4,8,1024,1024,16},{1,8,4096,4096,40},{2,8,4096,4096,40},{1,8,1024,77,64},{4,8,1024,77,16}};
    try (PointerScope sc=new PointerScope(); InferenceMode im=new InferenceMode()){
      for (long[] c: cases){
        Tensor q=torch.randn(c[0],c[1],c[2],c[4]), k=torch.randn(c[0],c[1],c[3],c[4]), v=torch.randn(c[0],c[1],c[3],c[4]);
        double scale=Math.pow(c[4],-0.5);
        Runnable sdpa=()->torch.scaled_dot_product_attention(q,k,v,new TensorOptional(),0.0,false,new DoubleOptional(),false).sum().item_float();
        Runnable math=()->q.mul(new Scalar(scale)).matmul(k.transpose(-1,-2)).softmax(-1).matmul(v).sum().item_float();
        Tensor d1=torch.scaled_dot_product_attention(q,k,v,new TensorOptional(),0.0,false,new DoubleOptional(),false);
        Tensor d2=q.mul(new Scalar(scale)).matmul(k.transpose(-1,-2)).softmax(-1).matmul(v);
        double diff=torch.max(torch.abs(d1.sub(d2))).item_float();
        t(sdpa,1); t(math,1);
        System.out.printf("%s sdpa %.2f ms, math %.2f ms (d %.1e)%n", java.util.Arrays.toString(c), t(sdpa,5), t(math,5), diff);
      }
    }
  }
}
