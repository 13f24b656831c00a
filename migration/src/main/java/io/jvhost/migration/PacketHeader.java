package io.jvhost.migration;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 16-byte header in front of every state-channel packet: be32 version, be32 idx, be32 flags,
 * be32 length. Decoding keeps the raw values (idx may be "negative" as a signed be32) so the
 * destination can name exactly what was wrong.
 */
record PacketHeader(int version, int idx, int flags, int length) {

    static PacketHeader data(int idx, int length) {
        return new PacketHeader(StreamFormat.PACKET_VERSION, idx, 0, length);
    }

    static PacketHeader configState(int idx, int length) {
        return new PacketHeader(StreamFormat.PACKET_VERSION, idx, StreamFormat.FLAG_CONFIG_STATE, length);
    }

    boolean isConfigState() {
        return (flags & StreamFormat.FLAG_CONFIG_STATE) != 0;
    }

    void encode(byte[] into, int offset) {
        ByteBuffer.wrap(into, offset, StreamFormat.PACKET_HEADER_BYTES)
                .putInt(version)
                .putInt(idx)
                .putInt(flags)
                .putInt(length);
    }

    /** Into {@code into} at {@code index}, leaving its position alone (big-endian, as above). */
    void encode(ByteBuffer into, int index) {
        into.order(ByteOrder.BIG_ENDIAN)
                .putInt(index, version)
                .putInt(index + 4, idx)
                .putInt(index + 8, flags)
                .putInt(index + 12, length);
    }

    byte[] encode() {
        byte[] b = new byte[StreamFormat.PACKET_HEADER_BYTES];
        encode(b, 0);
        return b;
    }

    /** From {@code b}'s first 16 bytes, leaving its position alone. */
    static PacketHeader decode(ByteBuffer b) {
        ByteBuffer buf = b.duplicate().order(ByteOrder.BIG_ENDIAN);
        return new PacketHeader(buf.getInt(0), buf.getInt(4), buf.getInt(8), buf.getInt(12));
    }

    static PacketHeader decode(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b);
        return new PacketHeader(buf.getInt(), buf.getInt(), buf.getInt(), buf.getInt());
    }
}
