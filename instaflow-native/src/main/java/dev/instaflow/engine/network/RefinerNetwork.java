package dev.instaflow.engine.network;

import org.bytedeco.pytorch.Tensor;

/** FlowTurbo's velocity refiner: {@code (x [B,C,h,w], v [B,C,h,w], s float32 [B]) -> delta_v [B,C,h,w]}. */
public interface RefinerNetwork extends NetworkPart {
    Tensor refine(Tensor x, Tensor v, Tensor s);
}
