package io.jvhost.migration;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * Cuts the back-end's state into packets for the source's channel threads. Each channel thread
 * reads its next packet itself, into its own buffer, under one lock that hands out indices in
 * order and keeps the running CRC32C; it then sends the packet outside the lock while the next
 * thread reads. No thread sits between the state's pipe and the sockets (a hand-off per packet
 * cost more than the read itself), and the pipe and the sockets' kernel buffers keep the back-end
 * writing while a single channel sends. Each channel sends increasing indices, and a channel
 * that finishes its packet sooner simply takes the next one. After EOF comes exactly one
 * CONFIG_STATE packet with the virtio device state; then {@link #next} returns null to everyone.
 *
 * <p>A channel's buffer is direct (native): the state's pipe is read into it and the socket
 * written from it by the kernel, and the CRC32C runs over it (intrinsic), with no copy of the
 * packet in user space (a heap array costs one, into the JDK's temporary direct buffer of the
 * socket write).
 */
final class PacketProducer {
    /** One packet ready to write: header and data contiguous in {@code bytes}' position..limit. */
    record Outgoing(PacketHeader header, ByteBuffer bytes) {}

    private final ReadableByteChannel in;
    private final int packetSize;
    private final byte[] configState;
    private final FirstFailure failure;
    private final ReentrantLock lock = new ReentrantLock();
    private final CRC32C crc = new CRC32C();
    private long total;
    private int idx;
    private boolean configSent;
    private volatile ControlMessage.End end;
    private volatile long stateBytes;

    /**
     * @param failure read errors fail the session through it; once it failed, {@link #next}
     *                returns null
     */
    PacketProducer(ReadableByteChannel in, int packetSize, byte[] configState, FirstFailure failure) {
        this.in = in;
        this.packetSize = packetSize;
        this.configState = configState.clone();
        this.failure = failure;
    }

    /** A buffer for one channel's packets: {@link #next} fills it. */
    ByteBuffer newBuffer() {
        return ByteBuffer.allocateDirect(StreamFormat.PACKET_HEADER_BYTES + packetSize);
    }

    /**
     * The next packet in index order, read into {@code buffer} (from {@link #newBuffer}) or, for
     * the CONFIG_STATE packet, into an array of its own; null once everything was handed out, or
     * when the session failed (a read error fails it here).
     */
    Outgoing next(ByteBuffer buffer) {
        lock.lock();
        try {
            if (failure.hasFailed() || configSent) return null;
            int n = readFully(buffer);
            return n > 0 ? data(buffer, n) : configStatePacket();
        } catch (MigrationException e) {
            failure.fail(e);
        } catch (IOException e) {
            failure.fail(new MigrationException("reading the device state failed: " + e.getMessage(), e));
        } finally {
            lock.unlock();
        }
        return null;
    }

    /** Fills the buffer's data part up to a packet (fewer bytes only at EOF); the bytes read. */
    private int readFully(ByteBuffer buffer) throws IOException {
        buffer.clear().position(StreamFormat.PACKET_HEADER_BYTES);
        while (buffer.hasRemaining()) {
            if (in.read(buffer) < 0) break; // a blocking channel reads at least a byte per call
        }
        return buffer.position() - StreamFormat.PACKET_HEADER_BYTES;
    }

    private Outgoing data(ByteBuffer buffer, int n) throws MigrationException {
        PacketHeader h = PacketHeader.data(nextIndex(), n);
        buffer.flip();
        h.encode(buffer, 0);
        crc.update(buffer.position(StreamFormat.PACKET_HEADER_BYTES));
        buffer.position(0);
        total += n;
        stateBytes = total;
        return new Outgoing(h, buffer);
    }

    private Outgoing configStatePacket() throws MigrationException {
        PacketHeader h = PacketHeader.configState(nextIndex(), configState.length);
        byte[] packet = new byte[StreamFormat.PACKET_HEADER_BYTES + configState.length];
        h.encode(packet, 0);
        System.arraycopy(configState, 0, packet, StreamFormat.PACKET_HEADER_BYTES, configState.length);
        crc.update(configState);
        end = new ControlMessage.End(total + configState.length, idx, (int) crc.getValue());
        configSent = true;
        return new Outgoing(h, ByteBuffer.wrap(packet));
    }

    private int nextIndex() throws MigrationException {
        if (idx == Integer.MAX_VALUE) {
            throw new MigrationException("state needs more than " + Integer.MAX_VALUE + " packets; use larger packets");
        }
        return idx++;
    }

    /** The totals for the End message; non-null once the CONFIG_STATE packet was handed out. */
    ControlMessage.End end() {
        return end;
    }

    long stateBytes() {
        return stateBytes;
    }
}
