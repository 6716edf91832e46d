package dev.instaflow.engine.runtime;

import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.buffer_iterator;
import org.bytedeco.pytorch.buffer_list;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.parameter_iterator;
import org.bytedeco.pytorch.parameter_list;

/**
 * Readies a loaded TorchScript module for inference: every parameter stops requiring gradients, and floating-point
 * weights and buffers are cast to the precision the model runs in.
 *
 * <p>Why not {@code JitModule.to(dtype)}: in LibTorch it casts <em>every</em> tensor, integer buffers included, and
 * a traced CLIP text encoder then fails on its float {@code position_ids}; this casts floating-point tensors only,
 * as Python's {@code Module.to} does. And why drop {@code requires_grad}: modules saved from Python keep it set, and
 * TorchScript's profiling executor then builds differentiable graphs whose saved tensors clash with inference mode.
 * Must run outside inference mode (the new weights must be ordinary tensors).
 */
public final class ModulePreparation {
    private ModulePreparation() {
    }

    /** @return the number of tensors cast */
    public static int prepare(JitModule module, ScalarType dtype) {
        int cast = 0;
        try (NoGradGuard noGrad = new NoGradGuard()) {
            parameter_list params = module.parameters(true);
            for (parameter_iterator it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
                Tensor p = it.access();
                p.requires_grad_(false);
                cast += castIfFloating(p, dtype);
            }
            buffer_list buffers = module.buffers(true);
            for (buffer_iterator it = buffers.begin(); it.notEquals(buffers.end()); it = it.increment()) {
                cast += castIfFloating(it.access(), dtype);
            }
        }
        module.eval();
        return cast;
    }

    private static int castIfFloating(Tensor t, ScalarType dtype) {
        if (t.is_floating_point() && Tensors.dtype(t) != dtype) {
            t.set_data(t.to(dtype));
            return 1;
        }
        return 0;
    }
}
