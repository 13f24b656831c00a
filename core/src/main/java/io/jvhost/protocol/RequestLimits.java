package io.jvhost.protocol;

/**
 * What the codec knows about one request type before reading its payload: its id, the payload
 * size range, the fd count range, when it is answered, and the message record it decodes into.
 */
public record RequestLimits(
        int id,
        int minPayload,
        int maxPayload,
        int minFds,
        int maxFds,
        ReplyRule replyRule,
        Class<? extends Message<?>> messageType) {}
