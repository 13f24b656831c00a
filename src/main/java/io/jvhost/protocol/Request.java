package io.jvhost.protocol;

/**
 * A request type of either direction, with the limits the codec enforces before looking at the
 * payload: payload size range and file-descriptor count range. Exact sizes that depend on the
 * payload itself (number of memory regions, config length) are checked by the codec.
 */
public sealed interface Request permits FrontendRequest, BackendRequest {
    int id();

    String name();

    int minPayload();

    int maxPayload();

    int minFds();

    int maxFds();

    ReplyRule replyRule();

    /** "SET_MEM_TABLE (5)", for messages. */
    default String describe() {
        return name() + " (" + id() + ")";
    }
}
