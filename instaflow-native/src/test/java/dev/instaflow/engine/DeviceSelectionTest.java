package dev.instaflow.engine;

import dev.instaflow.Device;
import dev.instaflow.DeviceUnavailableException;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;
import dev.instaflow.engine.runtime.CudaDiagnostics;
import dev.instaflow.engine.runtime.TorchRuntime;
import dev.instaflow.engine.testing.TinyBundle;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device choice on a machine without a usable GPU (CI): auto falls back to the CPU; cuda says why it cannot. */
class DeviceSelectionTest {
    @TempDir
    Path temp;

    private static void assumeNoCuda() {
        TorchRuntime.ensureLoaded();
        Assumptions.assumeFalse(TorchRuntime.hasCudaNatives() && torch.cuda_is_available(), "a GPU is usable here");
    }

    @Test
    void autoFallsBackToTheCpu() {
        assumeNoCuda();
        try (InstaFlow model = InstaFlow.load(TinyBundle.create(temp.resolve("t")),
                LoadOptions.defaults())) {
            assertEquals(Device.cpu(), model.info().device());
        }
    }

    @Test
    void cudaOnACpuOnlySetupSaysWhyAndWhatToDo() {
        assumeNoCuda();
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> InstaFlow.load(
                TinyBundle.create(temp.resolve("t")), LoadOptions.builder().device(Device.cuda(0)).build()));
        assertTrue(e.getMessage().startsWith("device cuda:0 was requested but CUDA is not available: "),
                e.getMessage());
        assertTrue(e.getMessage().contains(CudaDiagnostics.explainUnavailable()), e.getMessage());
        if (!TorchRuntime.hasCudaNatives()) {
            assertTrue(e.getMessage().contains("CPU build") && e.getMessage().contains("-Pcuda"), e.getMessage());
        }
    }
}
