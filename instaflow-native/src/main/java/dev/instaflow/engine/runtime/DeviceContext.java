package dev.instaflow.engine.runtime;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.Device;
import dev.instaflow.DeviceUnavailableException;
import dev.instaflow.Precision;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The device and precision one model runs on. Everything that moves a tensor between host and device, or chooses
 * a dtype, goes through here, so that "where does this tensor live" has one answer per model.
 *
 * <p>Conventions: initial noise is drawn in float32 on the CPU (so a seed gives the same image on every device)
 * and moved here; latents stay float32 through the sampler; network inputs are cast to the model's precision
 * and outputs back to float32; timesteps are always float32.
 */
@EntryPoint("a device and dtype to run parts on: tooling's assembler")
public final class DeviceContext implements AutoCloseable {
    private final Device device;
    private final Precision precision;
    private final org.bytedeco.pytorch.Device torchDevice;

    private DeviceContext(Device device, Precision precision) {
        this.device = device;
        this.precision = precision;
        this.torchDevice = device.isCuda()
                ? new org.bytedeco.pytorch.Device(torch.DeviceType.CUDA, (byte) device.index())
                : new org.bytedeco.pytorch.Device(torch.DeviceType.CPU);
        this.torchDevice.retainReference();
    }

    /**
     * Resolves {@code requested} (empty picks cuda:0 when usable, else the CPU) and checks that it can run
     * {@code precision}. cuDNN benchmarking is a process-wide setting ({@link TorchRuntime#configure}).
     *
     * @throws DeviceUnavailableException naming the reason
     */
    public static DeviceContext open(java.util.Optional<Device> requested, Precision precision) {
        TorchRuntime.ensureLoaded();
        Device device = requested.orElseGet(() -> cudaUsable() ? Device.cuda(0) : Device.cpu());
        if (device.isCuda()) {
            if (!cudaUsable()) {
                throw new DeviceUnavailableException("device " + device + " was requested but CUDA is not available: "
                        + CudaDiagnostics.explainUnavailable());
            }
            long count = torch.cuda_device_count();
            if (device.index() >= count) {
                throw new DeviceUnavailableException("device " + device + " was requested but only " + count
                        + " CUDA device(s) are visible (cuda:0.." + (count - 1) + ")");
            }
        } else if (precision != Precision.FLOAT32) {
            throw new DeviceUnavailableException("precision " + precision + " needs a CUDA device; the CPU runs"
                    + " float32 only: load the bundle with Device.cuda(), or with LoadOptions.precision(FLOAT32) to cast"
                    + " its weights up (parts whose traced graphs fix their dtype then fail the load-time check), or"
                    + " export a float32 bundle for the CPU (exporter --dtype fp32 --device cpu)");
        }
        return new DeviceContext(device, precision);
    }

    private static boolean cudaUsable() {
        return TorchRuntime.hasCudaNatives() && torch.cuda_is_available();
    }

    public Device device() {
        return device;
    }

    public Precision precision() {
        return precision;
    }

    public org.bytedeco.pytorch.Device torchDevice() {
        return torchDevice;
    }

    public boolean isCuda() {
        return device.isCuda();
    }

    /** The LibTorch dtype of the model's weights and activations. */
    public ScalarType modelDtype() {
        return scalarType(precision);
    }

    public static ScalarType scalarType(Precision precision) {
        switch (precision) {
            case FLOAT16:
                return ScalarType.Half;
            case BFLOAT16:
                return ScalarType.BFloat16;
            default:
                return ScalarType.Float;
        }
    }

    /** Options for a new tensor of {@code dtype} on this device. */
    public TensorOptions options(ScalarType dtype) {
        return new TensorOptions(dtype).device(new org.bytedeco.pytorch.DeviceOptional(torchDevice));
    }

    /**
     * Moves a host tensor here: a no-op on the CPU; on CUDA an asynchronous copy through page-locked memory, queued on
     * the thread's current stream (the generation's, inside {@link #begin()}).
     */
    public Tensor upload(Tensor host) {
        return isCuda() ? CudaExecution.upload(host, torchDevice) : host;
    }

    /** Starts the device side of one generation; close it when the generation ends. */
    public DeviceExecution begin() {
        return isCuda() ? new CudaExecution(torchDevice) : new HostExecution();
    }

    /** Casts a float32 tensor to the model's dtype for a network input (a no-op for float32 models). */
    public Tensor toModelDtype(Tensor t) {
        return Tensors.dtype(t) == modelDtype() ? t : t.to(modelDtype());
    }

    /**
     * A weight read on the host, made ready for the networks: floating-point tensors cast to the model's dtype,
     * integer ones kept as they are, both moved to the device (a no-op for float32 weights on the CPU).
     */
    public Tensor prepareWeight(Tensor host) {
        Tensor cast = host.is_floating_point() && Tensors.dtype(host) != modelDtype() ? host.to(modelDtype()) : host;
        return isCuda() ? cast.to(torchDevice(), Tensors.dtype(cast)) : cast;
    }

    /** Casts a network output back to float32 for the sampler's arithmetic (a no-op for float32 models). */
    public Tensor toFloat32(Tensor t) {
        return Tensors.dtype(t) == ScalarType.Float ? t : t.to(ScalarType.Float);
    }

    /** Waits until all work queued on this device has finished (a no-op on the CPU). */
    public void synchronizeDevice() {
        if (isCuda()) {
            torch.cuda_synchronize();
        }
    }

    /** Releases the native device handle. */
    @Override
    public void close() {
        torchDevice.releaseReference();
    }

    @Override
    public String toString() {
        return device + "/" + precision;
    }
}
