package io.jvhost.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * Reads payload fields in native byte order. Sizes are validated before a reader is used, so
 * running short is a codec bug; it still surfaces as a ProtocolException, never as a
 * BufferUnderflowException escaping to the caller.
 */
final class PayloadReader {
    private final ByteBuffer buf;
    private final Header header;

    PayloadReader(ByteBuffer payload, Header header) {
        this.buf = payload.slice().order(ByteOrder.nativeOrder());
        this.header = header;
    }

    private void need(int n) throws ProtocolException {
        if (buf.remaining() < n) {
            throw new ProtocolException(
                    "payload too short: needed " + n + " more bytes at offset " + buf.position(), header);
        }
    }

    int u8() throws ProtocolException {
        need(1);
        return Byte.toUnsignedInt(buf.get());
    }

    int u16() throws ProtocolException {
        need(2);
        return Short.toUnsignedInt(buf.getShort());
    }

    int u32() throws ProtocolException {
        need(4);
        return buf.getInt();
    }

    long u64() throws ProtocolException {
        need(8);
        return buf.getLong();
    }

    byte[] bytes(int n) throws ProtocolException {
        need(n);
        byte[] b = new byte[n];
        buf.get(b);
        return b;
    }

    /** VhostUserShared: the 16 UUID bytes in RFC 4122 (big-endian) order, whatever the host order. */
    UUID uuid() throws ProtocolException {
        need(16);
        ByteBuffer be = buf.slice(buf.position(), 16).order(ByteOrder.BIG_ENDIAN);
        buf.position(buf.position() + 16);
        return new UUID(be.getLong(0), be.getLong(8));
    }

    void skip(int n) throws ProtocolException {
        need(n);
        buf.position(buf.position() + n);
    }

    int remaining() {
        return buf.remaining();
    }

    MemoryRegionDescriptor region() throws ProtocolException {
        return new MemoryRegionDescriptor(u64(), u64(), u64(), u64());
    }
}
