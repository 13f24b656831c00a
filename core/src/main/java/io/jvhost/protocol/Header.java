package io.jvhost.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 12-byte vhost-user message header: u32 request, u32 flags, u32 payload size, in the
 * machine's native byte order (spec "Message Specification"; little endian on x86_64).
 *
 * <p>Flags: bits 0–1 are the version (must be 1), bit 2 marks a reply, bit 3 asks for a reply
 * (see {@link ReplyRule}). Other bits are reserved; like rust-vmm we reject them rather than
 * guess what a future extension meant.
 */
public record Header(int request, int flags, int size) {
    public static final int SIZE = 12;
    public static final int VERSION_MASK = 0x3;
    public static final int VERSION_1 = 0x1;
    public static final int REPLY = 0x4;
    public static final int NEED_REPLY = 0x8;
    private static final int KNOWN_FLAGS = VERSION_MASK | REPLY | NEED_REPLY;
    /** Flags of every reply: QEMU rejects a reply whose flags are anything but version|REPLY. */
    public static final int REPLY_FLAGS = VERSION_1 | REPLY;
    /**
     * Largest payload accepted (rust-vmm's MAX_MSG_SIZE): every defined message fits, and it
     * bounds what a hostile peer can make us allocate.
     */
    public static final int MAX_PAYLOAD = 4096;
    /** At most 8 fds per message (VHOST_MEMORY_BASELINE_NREGIONS, VHOST_USER_SLAVE_MAX_FDS). */
    public static final int MAX_FDS = 8;

    public static Header forRequest(Request request, boolean needReply, int size) {
        return new Header(request.id(), VERSION_1 | (needReply ? NEED_REPLY : 0), size);
    }

    public static Header forReply(Request request, int size) {
        return new Header(request.id(), REPLY_FLAGS, size);
    }

    /** Reads 12 bytes from {@code src} (native order regardless of the buffer's order). */
    public static Header read(ByteBuffer src) {
        ByteBuffer b = src.slice().order(ByteOrder.nativeOrder());
        Header h = new Header(b.getInt(0), b.getInt(4), b.getInt(8));
        src.position(src.position() + SIZE);
        return h;
    }

    public void write(ByteBuffer dst) {
        ByteBuffer b = dst.slice().order(ByteOrder.nativeOrder());
        b.putInt(0, request).putInt(4, flags).putInt(8, size);
        dst.position(dst.position() + SIZE);
    }

    public int version() {
        return flags & VERSION_MASK;
    }

    public boolean isReply() {
        return (flags & REPLY) != 0;
    }

    public boolean needsReply() {
        return (flags & NEED_REPLY) != 0;
    }

    /** The payload size as the unsigned number the wire means. */
    public long unsignedSize() {
        return Integer.toUnsignedLong(size);
    }

    /**
     * Checks what must hold before the payload can even be read: version 1, no reserved flag bits,
     * size within {@link #MAX_PAYLOAD}. A failure here loses the framing.
     *
     * @param what names the request for the error message, e.g. "front-end request SET_MEM_TABLE (5)"
     * @param streamInSync what to report in the exception: true when the caller already holds the
     *     complete frame (codec), false when it is reading from a stream (connection)
     */
    void checkFraming(String what, boolean streamInSync) throws ProtocolException {
        if (version() != VERSION_1) {
            throw new ProtocolException(
                    what + ": unsupported header version " + version() + " (flags 0x" + Integer.toHexString(flags)
                            + "), expected 1",
                    this,
                    streamInSync);
        }
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new ProtocolException(
                    what + ": reserved header flag bits set (flags 0x" + Integer.toHexString(flags) + ")",
                    this,
                    streamInSync);
        }
        if (unsignedSize() > MAX_PAYLOAD) {
            throw new ProtocolException(
                    what + ": payload size " + unsignedSize() + " exceeds the maximum of " + MAX_PAYLOAD,
                    this,
                    streamInSync);
        }
    }

    @Override
    public String toString() {
        return "Header[request=" + request + ", flags=0x" + Integer.toHexString(flags) + ", size=" + unsignedSize()
                + "]";
    }
}
