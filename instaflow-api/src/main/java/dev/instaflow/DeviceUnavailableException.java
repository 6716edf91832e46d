package dev.instaflow;

/** The requested device cannot be used; the message says why (no driver, no GPU, CPU-only natives, missing library). */
public final class DeviceUnavailableException extends InstaFlowException {
    public DeviceUnavailableException(String message) {
        super(message);
    }

    public DeviceUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
