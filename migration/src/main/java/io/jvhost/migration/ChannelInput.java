package io.jvhost.migration;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One state channel's bytes cut into packets on the destination. The socket is read into a
 * {@link BufferPool.Chunk} as far as it holds data (several packets per read(2) when the source is
 * ahead, instead of a read for each header and each packet's data), and each data packet is a
 * slice of its chunk, copied nowhere. A packet that does not fit in what is left of the chunk
 * continues in a fresh one (its first bytes copied over), or at the start of the same chunk if no
 * packet cut from it is still waiting.
 *
 * <p>The reader reads ahead of the reorder window by at most one chunk: beyond that, TCP's
 * back-pressure holds the source as before ({@link ReorderWindow}).
 */
final class ChannelInput implements Closeable {
    private final ChannelReader in;
    private final BufferPool pool;
    private final String name;
    private BufferPool.Chunk chunk;
    /** Where the next unread byte of the chunk is; the chunk's position is how far it is filled. */
    private int next;

    ChannelInput(ChannelReader in, BufferPool pool, String name) {
        this.in = in;
        this.pool = pool;
        this.name = name;
        this.chunk = pool.take();
    }

    /** The next packet's header; null if the channel ended cleanly, at a packet boundary. */
    PacketHeader nextHeader() throws IOException {
        int got = ensure(StreamFormat.PACKET_HEADER_BYTES);
        if (got == 0) return null;
        if (got < StreamFormat.PACKET_HEADER_BYTES) {
            throw new ConnectionLostException(name + " was cut in the middle of a packet header");
        }
        PacketHeader h = PacketHeader.decode(chunk.buffer().slice(next, StreamFormat.PACKET_HEADER_BYTES));
        next += StreamFormat.PACKET_HEADER_BYTES;
        return h;
    }

    /**
     * The data of the packet whose header {@link #nextHeader} just returned: a slice of a chunk,
     * held for the packet; the CONFIG_STATE packet's in a heap buffer of its own (it is decoded
     * from an array, and may be larger than a chunk).
     */
    ReorderWindow.Packet data(PacketHeader h) throws IOException {
        int len = h.length();
        if (h.isConfigState()) {
            ByteBuffer data = ByteBuffer.allocate(len);
            int buffered = Math.min(len, chunk.buffer().position() - next);
            data.put(chunk.buffer().slice(next, buffered));
            next += buffered;
            in.readFully(data);
            if (data.hasRemaining()) throw cut(h, data.position());
            return new ReorderWindow.Packet(h, data.flip(), null);
        }
        int got = ensure(len);
        if (got < len) throw cut(h, got);
        ReorderWindow.Packet p = new ReorderWindow.Packet(h, chunk.slice(next, len), chunk);
        next += len;
        return p;
    }

    private ConnectionLostException cut(PacketHeader h, int got) {
        return new ConnectionLostException(
                name + " was cut in the middle of packet " + h.idx() + " (" + got + " of " + h.length() + " bytes)");
    }

    /**
     * Makes {@code want} unread bytes available from {@link #next} in the chunk, reading as much as
     * the socket holds; returns how many are available, fewer than {@code want} only at EOF.
     */
    private int ensure(int want) throws IOException {
        ByteBuffer b = chunk.buffer();
        int available = b.position() - next;
        if (available >= want) return available;
        if (next + want > b.capacity()) {
            b = moveToFreshChunk(available);
        }
        int got = in.readAtLeast(b, want - available);
        return available + got;
    }

    /** The unread bytes to the start of a chunk with room: this one if nobody else holds it, else a new one. */
    private ByteBuffer moveToFreshChunk(int available) {
        ByteBuffer old = chunk.buffer();
        if (chunk.heldOnce()) {
            old.limit(old.position()).position(next);
            old.compact(); // position = available, limit = capacity
            next = 0;
            return old;
        }
        BufferPool.Chunk fresh = pool.take();
        fresh.buffer().put(old.slice(next, available));
        chunk.release();
        chunk = fresh;
        next = 0;
        return fresh.buffer();
    }

    /** Lets go of the chunk being filled; the packets cut from it keep theirs. */
    @Override
    public void close() {
        BufferPool.Chunk c = chunk;
        chunk = null;
        if (c != null) c.release();
    }
}
