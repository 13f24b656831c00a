package io.jvhost.devices.fs.fuse;

import io.jvhost.virtqueue.ChainWriter;
import io.jvhost.virtqueue.VirtqueueException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A fixed-size reply (out header and struct) built in this thread's array and written to the
 * guest's buffers with one copy: a GETATTR or LOOKUP reply made a ByteBuffer, its array and a
 * heap segment per request, and the header went field by field (three cursor moves), a third of
 * the ring worker's allocation per request (JFR). One per thread, as pool threads reply too.
 * Only for replies whose size the encoder knows ({@link #CAPACITY} at most); the payload is
 * computed before {@link #begin()}, so nothing else on the thread reuses the array meanwhile.
 */
final class ReplyScratch {
    /** The largest reply built here: out header, fuse_entry_out and fuse_open_out (CREATE). */
    static final int CAPACITY = ReplyEncoder.OUT_HEADER_SIZE + 40 + ReplyEncoder.ATTR_SIZE + ReplyEncoder.OPEN_OUT_SIZE;

    private static final ThreadLocal<ReplyScratch> LOCAL = ThreadLocal.withInitial(ReplyScratch::new);

    private final byte[] bytes = new byte[CAPACITY];
    private final ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    private final MemorySegment segment = MemorySegment.ofArray(bytes);

    private ReplyScratch() {}

    /** This thread's buffer, its {@link #body} positioned after the out header, ready for the reply's struct. */
    static ReplyScratch begin() {
        ReplyScratch s = LOCAL.get();
        s.buffer.clear().position(ReplyEncoder.OUT_HEADER_SIZE);
        return s;
    }

    /** Where the reply's struct goes, in order. */
    ByteBuffer body() {
        return buffer;
    }

    /** Fills in the out header of what {@link #body} holds and writes the whole reply to {@code w}; returns its length. */
    long send(ChainWriter w, long unique) throws VirtqueueException {
        int len = buffer.position();
        buffer.putInt(0, len).putInt(4, 0).putLong(8, unique);
        w.write(segment, 0, len);
        return len;
    }
}
