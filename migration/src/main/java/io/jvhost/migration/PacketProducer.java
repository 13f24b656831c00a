package io.jvhost.migration;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Cuts the back-end's state into packets for the source's channel threads. One reader thread reads
 * the state, checksums it and queues ready packets a few ahead, so reading the back-end's pipe
 * overlaps with sending even on a single channel. Channel threads take packets from the one queue
 * in index order, so each channel sends increasing indices and a channel that finishes its packet
 * sooner simply takes the next one. After EOF comes exactly one CONFIG_STATE packet with the
 * virtio device state; then {@link #next} returns null to everyone.
 */
final class PacketProducer {
    /** One packet ready to write: header and data contiguous in {@code bytes[0..length)}. */
    record Outgoing(PacketHeader header, byte[] bytes, int length) {}

    /** Queued once per channel after the CONFIG_STATE packet: "nothing more". */
    private static final Outgoing END = new Outgoing(null, new byte[0], 0);

    private static final long POLL_MILLIS = 50;

    private final InputStream in;
    private final int packetSize;
    private final int channels;
    private final byte[] configState;
    private final FirstFailure failure;
    private final BlockingQueue<byte[]> free;
    private final BlockingQueue<Outgoing> ready;
    private volatile ControlMessage.End end;
    private volatile long stateBytes;

    /**
     * @param failure read errors fail the session through it; its failure stops the reader and
     *                makes {@link #next} return null
     */
    PacketProducer(InputStream in, int packetSize, int channels, byte[] configState, FirstFailure failure) {
        this.in = in;
        this.packetSize = packetSize;
        this.channels = channels;
        this.configState = configState.clone();
        this.failure = failure;
        // One buffer in each channel's hands, one being filled, one queued ahead.
        int buffers = channels + 2;
        this.free = new ArrayBlockingQueue<>(buffers);
        for (int i = 0; i < buffers; i++) {
            free.add(new byte[StreamFormat.PACKET_HEADER_BYTES + packetSize]);
        }
        this.ready = new ArrayBlockingQueue<>(buffers + 1 + channels);
    }

    void start() {
        MigrationSource.startDaemon("migration-source-reader", this::produce);
    }

    private void produce() {
        CRC32C crc = new CRC32C();
        long bytes = 0;
        long total = 0;
        int idx = 0;
        try {
            while (true) {
                byte[] buffer = free.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (failure.hasFailed()) {
                    return;
                }
                if (buffer == null) {
                    continue;
                }
                if (idx == Integer.MAX_VALUE) {
                    throw new MigrationException(
                            "state needs more than " + Integer.MAX_VALUE + " packets; use larger packets");
                }
                int n = in.readNBytes(buffer, StreamFormat.PACKET_HEADER_BYTES, packetSize);
                if (n == 0) {
                    break;
                }
                PacketHeader h = PacketHeader.data(idx++, n);
                h.encode(buffer, 0);
                crc.update(buffer, StreamFormat.PACKET_HEADER_BYTES, n);
                bytes += n;
                total += n;
                stateBytes = bytes;
                if (!enqueue(new Outgoing(h, buffer, StreamFormat.PACKET_HEADER_BYTES + n))) {
                    return;
                }
            }
            PacketHeader h = PacketHeader.configState(idx++, configState.length);
            byte[] packet = new byte[StreamFormat.PACKET_HEADER_BYTES + configState.length];
            h.encode(packet, 0);
            System.arraycopy(configState, 0, packet, StreamFormat.PACKET_HEADER_BYTES, configState.length);
            crc.update(configState);
            total += configState.length;
            end = new ControlMessage.End(total, idx, (int) crc.getValue());
            if (!enqueue(new Outgoing(h, packet, packet.length))) {
                return;
            }
            for (int i = 0; i < channels; i++) {
                enqueue(END);
            }
        } catch (MigrationException e) {
            failure.fail(e);
        } catch (IOException e) {
            failure.fail(new MigrationException("reading the device state failed: " + e.getMessage(), e));
        } catch (InterruptedException e) {
            failure.fail(new MigrationException("state reader interrupted", e));
        }
    }

    /** Queues a packet, giving up (false) if the session fails meanwhile: nobody would take it. */
    private boolean enqueue(Outgoing p) throws InterruptedException {
        while (!ready.offer(p, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
            if (failure.hasFailed()) {
                return false;
            }
        }
        return true;
    }

    /** The next packet in index order; null once everything was handed out, or when the session failed. */
    Outgoing next() throws InterruptedException {
        while (!failure.hasFailed()) {
            Outgoing p = ready.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
            if (p == END) {
                return null;
            }
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    /** A data packet has been written: its buffer may be filled again. */
    void recycle(Outgoing p) {
        if (!p.header().isConfigState()) {
            free.offer(p.bytes());
        }
    }

    /** The totals for the End message; non-null once the CONFIG_STATE packet was queued. */
    ControlMessage.End end() {
        return end;
    }

    long stateBytes() {
        return stateBytes;
    }
}
