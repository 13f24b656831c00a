package io.jvhost.protocol;

/**
 * What the codec knows about one request type before reading its payload: its id, the payload
 * size range, the fd count range and when it is answered.
 */
public record RequestLimits(int id, int minPayload, int maxPayload, int minFds, int maxFds, ReplyRule replyRule) {}
