package dev.instaflow;

/**
 * Base of every exception the SDK throws on purpose. Unchecked: callers that cannot recover need not catch it,
 * callers that can catch the specific subtype. Invalid request values are reported with
 * {@link IllegalArgumentException} instead, because they are programming errors.
 */
public class InstaFlowException extends RuntimeException {
    public InstaFlowException(String message) {
        super(message);
    }

    public InstaFlowException(String message, Throwable cause) {
        super(message, cause);
    }
}
