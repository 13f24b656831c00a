package io.jvhost.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/** Builds a payload in native byte order; the encoders know each payload's exact size. */
final class PayloadWriter {
    private final ByteBuffer buf;

    PayloadWriter(int size) {
        this.buf = ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
    }

    PayloadWriter u8(int v) {
        buf.put((byte) v);
        return this;
    }

    PayloadWriter u16(int v) {
        buf.putShort((short) v);
        return this;
    }

    PayloadWriter u32(int v) {
        buf.putInt(v);
        return this;
    }

    PayloadWriter u64(long v) {
        buf.putLong(v);
        return this;
    }

    PayloadWriter bytes(byte[] b) {
        buf.put(b);
        return this;
    }

    PayloadWriter zeros(int n) {
        buf.position(buf.position() + n);
        return this;
    }

    PayloadWriter uuid(UUID u) {
        buf.order(ByteOrder.BIG_ENDIAN).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        buf.order(ByteOrder.nativeOrder());
        return this;
    }

    PayloadWriter region(MemoryRegionDescriptor r) {
        return u64(r.guestPhysAddr()).u64(r.size()).u64(r.userAddr()).u64(r.mmapOffset());
    }

    /** The payload; fails if the declared size was not filled exactly. */
    byte[] done() {
        if (buf.hasRemaining()) {
            throw new IllegalStateException(
                    "payload encoder wrote " + buf.position() + " of " + buf.capacity() + " bytes");
        }
        return buf.array();
    }
}
