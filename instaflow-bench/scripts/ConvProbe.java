// Times single conv2d calls (NCHW and channels-last) at UNet shapes: java -cp "instaflow-bench/target/lib/*" instaflow-bench/scripts/ConvProbe.java
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.*;
import org.bytedeco.pytorch.global.torch;
public class ConvProbe {
  static double time(Tensor x, Tensor w, int reps) {
    long[] s={1,1}, p={1,1}, d={1,1};
    double best=1e9;
    for (int i=0;i<reps;i++){ try (PointerScope sc=new PointerScope()){ long t=System.nanoTime(); Tensor y=torch.conv2d(x,w,new TensorOptional(),s,p,d,1); y.sum().item_float(); best=Math.min(best,(System.nanoTime()-t)/1e6);} }
    return best;
  }
  public static void main(String[] a){
    dev.instaflow.engine.runtime.TorchRuntime.ensureLoaded(); torch.set_num_threads(2);
    try (PointerScope sc=new PointerScope(); InferenceMode im=new InferenceMode()){
      long[][] cases={{2560,1280,8},{1280,1280,8},{2560,1280,16},{1920,1280,16},{320,320,64},{960,320,64}};
      for (long[] c: cases){
        Tensor x=torch.randn(1,c[0],c[2],c[2]); Tensor w=torch.randn(c[1],c[0],3,3).mul(new Scalar(0.01));
        double plain=time(x,w,4);
        Tensor xc=x.contiguous(torch.MemoryFormat.ChannelsLast), wc=w.contiguous(torch.MemoryFormat.ChannelsLast);
        double cl=time(xc,wc,4);
        double gflop=2.0*c[2]*c[2]*c[0]*c[1]*9/1e9;
        System.out.printf("in %d out %d %dx%d: %.3f GFLOP; NCHW %.1f ms (%.0f GFLOP/s); channels_last %.1f ms (%.0f GFLOP/s)%n",c[0],c[1],c[2],c[2],gflop,plain,gflop/plain*1e3,cl,gflop/cl*1e3);
      }
    }
  }
}
