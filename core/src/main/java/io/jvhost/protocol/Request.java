package io.jvhost.protocol;

/**
 * A request type of either direction, with the limits the codec enforces before looking at the
 * payload: payload size range and file-descriptor count range. Exact sizes that depend on the
 * payload itself (number of memory regions, config length) are checked by the codec.
 */
public sealed interface Request permits FrontendRequest, BackendRequest {
    String name();

    /** This type's limits, from the spec's message table. */
    RequestLimits limits();

    /** The record this request is decoded into: the table {@link Message#request()} is derived from. */
    default Class<? extends Message<?>> messageType() {
        return limits().messageType();
    }

    default int id() {
        return limits().id();
    }

    default int minPayload() {
        return limits().minPayload();
    }

    default int maxPayload() {
        return limits().maxPayload();
    }

    default int minFds() {
        return limits().minFds();
    }

    default int maxFds() {
        return limits().maxFds();
    }

    default ReplyRule replyRule() {
        return limits().replyRule();
    }

    /** "SET_MEM_TABLE (5)", for messages. */
    default String describe() {
        return name() + " (" + id() + ")";
    }
}
