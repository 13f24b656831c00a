package io.jvhost.migration;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * Cuts the back-end's state into packets for the source's channel threads. Indices are handed out
 * in the order the bytes are read, under one lock, so each channel sends increasing indices and a
 * channel that finishes its packet sooner simply takes the next one. After EOF comes exactly one
 * CONFIG_STATE packet with the virtio device state; then {@link #next} returns null to everyone.
 * The lock is fair: channel threads take turns while all are fast, instead of one thread that
 * just released it grabbing it again and leaving the other connections idle.
 */
final class PacketProducer {
    /** One packet ready to write: header and data contiguous in {@code bytes[0..length)}. */
    record Outgoing(PacketHeader header, byte[] bytes, int length) {
    }

    private final InputStream in;
    private final int packetSize;
    private final byte[] configState;
    private final CRC32C crc = new CRC32C();
    private final ReentrantLock lock = new ReentrantLock(true);
    private int nextIdx;
    private boolean eof;
    private boolean configTaken;
    private long stateBytes;
    private long totalBytes;

    PacketProducer(InputStream in, int packetSize, byte[] configState) {
        this.in = in;
        this.packetSize = packetSize;
        this.configState = configState.clone();
    }

    /** A buffer a channel thread reuses for its packets. */
    byte[] newBuffer() {
        return new byte[StreamFormat.PACKET_HEADER_BYTES + packetSize];
    }

    /**
     * The next packet, read into {@code buffer} when it is a data packet; null once the CONFIG_STATE
     * packet has been handed out.
     *
     * @throws IOException if reading the back-end's state fails
     */
    Outgoing next(byte[] buffer) throws IOException {
        lock.lock();
        try {
            return nextLocked(buffer);
        } finally {
            lock.unlock();
        }
    }

    private Outgoing nextLocked(byte[] buffer) throws IOException {
        if (configTaken) {
            return null;
        }
        if (nextIdx == Integer.MAX_VALUE) {
            throw new MigrationException("state needs more than " + Integer.MAX_VALUE + " packets; use larger packets");
        }
        if (!eof) {
            int n = in.readNBytes(buffer, StreamFormat.PACKET_HEADER_BYTES, packetSize);
            if (n > 0) {
                PacketHeader h = PacketHeader.data(nextIdx++, n);
                h.encode(buffer, 0);
                crc.update(buffer, StreamFormat.PACKET_HEADER_BYTES, n);
                stateBytes += n;
                totalBytes += n;
                return new Outgoing(h, buffer, StreamFormat.PACKET_HEADER_BYTES + n);
            }
            eof = true;
        }
        configTaken = true;
        PacketHeader h = PacketHeader.configState(nextIdx++, configState.length);
        byte[] packet = new byte[StreamFormat.PACKET_HEADER_BYTES + configState.length];
        h.encode(packet, 0);
        System.arraycopy(configState, 0, packet, StreamFormat.PACKET_HEADER_BYTES, configState.length);
        crc.update(configState);
        totalBytes += configState.length;
        return new Outgoing(h, packet, packet.length);
    }

    /** The totals for the End message; meaningful once every packet was handed out. */
    ControlMessage.End end() {
        lock.lock();
        try {
            return new ControlMessage.End(totalBytes, nextIdx, (int) crc.getValue());
        } finally {
            lock.unlock();
        }
    }

    long stateBytes() {
        lock.lock();
        try {
            return stateBytes;
        } finally {
            lock.unlock();
        }
    }
}
