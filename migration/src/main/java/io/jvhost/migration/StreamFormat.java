package io.jvhost.migration;

import java.nio.charset.StandardCharsets;

/** Constants and limits of the migration stream; docs/migration-stream.md is the prose version. */
final class StreamFormat {
    /** Opens every connection, main or state: ASCII {@code JVHMIGR1}. */
    static final byte[] MAGIC = "JVHMIGR1".getBytes(StandardCharsets.US_ASCII);

    static final int STREAM_VERSION = 1;
    static final int ROLE_MAIN = 1;
    static final int ROLE_STATE = 2;

    /** The version field of every state packet header (seed 004's packet version). */
    static final int PACKET_VERSION = 1;
    /** Marks the last packet, which carries the virtio device state instead of back-end state. */
    static final int FLAG_CONFIG_STATE = 1;

    static final int KNOWN_FLAGS = FLAG_CONFIG_STATE;
    static final int PACKET_HEADER_BYTES = 16;

    /** Hard cap on a packet's data; a destination may configure less. */
    static final int MAX_PACKET_SIZE = 64 << 20;

    static final int MIN_PACKET_SIZE = 1;
    static final int MAX_CHANNELS = 64;
    /** Control messages are small; anything longer is garbage. */
    static final int MAX_CONTROL_BODY = 64 * 1024;

    static final int MAX_DEVICE_TYPE = 127;
    static final int MAX_REASON_BYTES = 4096;

    private StreamFormat() {}
}
