package dev.instaflow.engine.runtime;

import dev.instaflow.engine.EntryPoint;
/**
 * Turns LibTorch's exception text into something a person reads. A {@code c10::Error} message carries a C++
 * backtrace ("Exception raised from ... frame #0 ..."); the first part is the message. The full text stays
 * available as the exception's cause.
 */
@EntryPoint("LibTorch's message from a native exception: the CLI, tooling")
public final class NativeErrors {
    private static final int MAX_LENGTH = 600;

    private NativeErrors() {
    }

    /** The native message without its C++ backtrace, on one line. */
    public static String summary(Throwable error) {
        String message = error.getMessage();
        if (message == null || message.isBlank()) {
            return error.getClass().getSimpleName();
        }
        int cut = message.indexOf("Exception raised from");
        if (cut < 0) {
            cut = message.indexOf("\nframe #");
        }
        String head = (cut >= 0 ? message.substring(0, cut) : message).strip();
        // TorchScript interpreter errors put the useful line last, after a "The following operation failed" trace.
        int traceback = head.indexOf("Traceback of TorchScript");
        if (traceback >= 0) {
            int lastLine = head.lastIndexOf("RuntimeError:");
            head = lastLine >= 0 ? head.substring(lastLine + "RuntimeError:".length()).strip() : head;
        }
        head = head.replaceAll("\\s*\\n\\s*", " ");
        return head.length() > MAX_LENGTH ? head.substring(0, MAX_LENGTH) + "..." : head;
    }
}
