package io.jvhost.state;

import java.io.IOException;

/**
 * The state blob is malformed, corrupt, truncated or not loadable by this reader.
 *
 * <p>Checked, and an {@link IOException} like {@code java.util.zip.ZipException}: a bad blob is an
 * expected outcome at a trust boundary (the destination must answer CHECK_DEVICE_STATE with an
 * error and keep running), so every caller is made to handle it, and code that already handles a
 * failed transfer (an {@code IOException} on the pipe) handles this one too.
 */
public final class StateFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final long offset;

    /** For loaders' own semantic checks when no offset is at hand; prefer {@link SectionInput#malformed}. */
    public StateFormatException(String message) {
        this(message, -1);
    }

    StateFormatException(String message, long offset) {
        super(message);
        this.offset = offset;
    }

    /** Byte offset in the blob where the problem was found, or -1 if unknown. */
    public long offset() {
        return offset;
    }
}
