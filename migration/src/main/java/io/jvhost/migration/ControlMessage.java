package io.jvhost.migration;

/** What travels on the main channel, after the preamble; see {@link ControlCodec} for the bytes. */
sealed interface ControlMessage {
    /**
     * Source → destination, first: what is coming.
     *
     * @param stateSize back-end state size in bytes if the source knows it, else -1 (for ETA and
     *                  for the destination to bound the packet count)
     */
    record Hello(String deviceType, long virtioFeatures, int channels, int packetSize, long stateSize)
            implements ControlMessage {}

    /** Destination → source: the session is accepted; the source may open its state channels. */
    record Accept() implements ControlMessage {}

    /** Source → destination, after its last packet: what the destination must have received. */
    record End(long totalBytes, long packets, int crc32c) implements ControlMessage {}

    /** Destination → source: everything arrived, matched End, and was streamed out. */
    record Ok() implements ControlMessage {}

    /** Either direction, at any time: the sender gives up; the reason is for the peer's error message. */
    record Abort(String reason) implements ControlMessage {}
}
