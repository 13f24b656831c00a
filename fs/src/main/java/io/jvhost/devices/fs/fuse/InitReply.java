package io.jvhost.devices.fs.fuse;

/**
 * What the server answered to INIT, i.e. the session both sides agreed on: {@code minor} is the
 * server's minor, {@code sessionMinor} the lower of both (which struct sizes apply), {@code flags}
 * the negotiated 64-bit INIT flags. Kept so that migration can carry the session.
 */
public record InitReply(
        int major,
        int minor,
        int sessionMinor,
        int maxReadahead,
        long flags,
        int maxBackground,
        int congestionThreshold,
        int maxWrite,
        int timeGran,
        int maxPages) {}
