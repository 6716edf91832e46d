package dev.instaflow;

/**
 * Base of every exception the SDK throws on purpose; never thrown itself, so a {@code catch} can tell the cases
 * apart: the model cannot be used ({@link InvalidModelException}), the device cannot ({@link
 * DeviceUnavailableException}), a network failed ({@link InferenceException}), or the generation was cancelled
 * ({@link GenerationCancelledException}). Unchecked: callers that cannot recover need not catch it. Invalid request
 * values are reported with {@link IllegalArgumentException} and null arguments with {@link NullPointerException}
 * instead, because they are programming errors; using a closed model is an {@link IllegalStateException}.
 */
public abstract sealed class InstaFlowException extends RuntimeException
        permits InvalidModelException, DeviceUnavailableException, InferenceException, GenerationCancelledException {
    InstaFlowException(String message) {
        super(message);
    }

    InstaFlowException(String message, Throwable cause) {
        super(message, cause);
    }
}
