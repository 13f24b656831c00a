package io.jvhost.protocol;

import java.io.IOException;
import java.util.Optional;

/**
 * A message that breaks the vhost-user wire format: bad header, unknown request, wrong payload
 * size or file-descriptor count for its type, out-of-range field. Any file descriptors that came
 * with the message have already been closed when this is thrown.
 *
 * <p>{@link #streamInSync()} tells whether the whole message (as delimited by its header) was
 * consumed, so the next message can still be read and, if the header asked for one, an error
 * reply can be sent. It is false when the header itself was unusable (wrong version, reserved
 * flags, oversized, truncated by EOF): then the framing is lost and the connection must go.
 */
public class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Header header;
    private final boolean streamInSync;

    public ProtocolException(String message, Header header, boolean streamInSync) {
        this(message, header, streamInSync, null);
    }

    public ProtocolException(String message, Header header, boolean streamInSync, Throwable cause) {
        super(message, cause);
        this.header = header;
        this.streamInSync = streamInSync;
    }

    /** A violation found in a complete, correctly framed message. */
    public ProtocolException(String message, Header header) {
        this(message, header, true);
    }

    /** A violation found in a complete, correctly framed message, by a check that threw {@code cause}. */
    public ProtocolException(String message, Header header, Throwable cause) {
        this(message, header, true, cause);
    }

    /** The header of the offending message, if it was read. */
    public Optional<Header> header() {
        return Optional.ofNullable(header);
    }

    public boolean streamInSync() {
        return streamInSync;
    }
}
