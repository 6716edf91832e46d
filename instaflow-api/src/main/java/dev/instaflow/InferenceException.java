package dev.instaflow;

/**
 * A network or tensor operation failed while generating. The message keeps the native engine's own message (for
 * example LibTorch's) after naming the stage, and the native exception is the cause.
 */
public final class InferenceException extends InstaFlowException {
    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
