package io.jvhost.protocol;

import java.util.Objects;

/** A decoded request with the header it came with (for NEED_REPLY and error replies). */
public record ReceivedMessage<M extends CarriesFds>(Header header, M message) {
    public ReceivedMessage {
        Objects.requireNonNull(header, "header");
        Objects.requireNonNull(message, "message");
    }

    public boolean needsReply() {
        return header.needsReply();
    }
}
