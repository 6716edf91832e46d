// Probe behind docs/performance.md (issue 13): the tiny UNet's op kinds at batch 1-8: java -cp "instaflow-bench/target/lib/*" instaflow-bench/scripts/TinyOps.java THREADS
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.*;
import org.bytedeco.pytorch.global.torch;
public class TinyOps {
  static double t(Runnable r){ for(int i=0;i<3;i++) try(PointerScope sc=new PointerScope()){ r.run(); } long s=System.nanoTime(); for(int i=0;i<20;i++) try(PointerScope sc=new PointerScope()){ r.run(); } return (System.nanoTime()-s)/20e6; }
  public static void main(String[] a){
    dev.instaflow.engine.runtime.TorchRuntime.ensureLoaded(); torch.set_num_threads(Integer.parseInt(a[0]));
    try (PointerScope sc=new PointerScope(); InferenceMode im=new InferenceMode()){
      for (long b: new long[]{1,2,4,8}){
        Tensor x=torch.randn(b,32,16,16); Tensor w1=torch.randn(32,32,1,1); Tensor w3=torch.randn(32,32,3,3); TensorOptional no=new TensorOptional();
        Tensor tok=torch.randn(b,256,32); Tensor wl=torch.randn(32,32); Tensor wf=torch.randn(256,32); Tensor ctx=torch.randn(b,77,32);
        Tensor q=torch.randn(b,8,256,4), k=torch.randn(b,8,256,4), kc=torch.randn(b,8,77,4);
        double c1=t(()->torch.conv2d(x,w1,no,new long[]{1,1},new long[]{0,0},new long[]{1,1},1));
        double c3=t(()->torch.conv2d(x,w3,no,new long[]{1,1},new long[]{1,1},new long[]{1,1},1));
        double gn=t(()->torch.group_norm(x,32,no,no,1e-5,true));
        double li=t(()->torch.linear(tok,wl,no));
        double ff=t(()->torch.linear(tok,wf,no));
        double sa=t(()->torch.scaled_dot_product_attention(q,k,k,no,0.0,false,new DoubleOptional(),false));
        double ca=t(()->torch.scaled_dot_product_attention(q,kc,kc,no,0.0,false,new DoubleOptional(),false));
        double ge=t(()->torch.gelu(torch.linear(tok,wf,no)));
        System.out.printf("b%d: conv1x1 %.3f conv3x3 %.3f groupnorm %.3f linear32 %.3f linear32->256 %.3f self-attn %.3f cross-attn %.3f gelu(ff) %.3f ms%n",b,c1,c3,gn,li,ff,sa,ca,ge);
      }
    }
  }
}
