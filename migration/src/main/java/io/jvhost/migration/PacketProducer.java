package io.jvhost.migration;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * Cuts the back-end's state into packets for the source's channel threads. Each channel thread
 * reads its next run of packets itself, into its own {@link Batch}, under one lock that hands out
 * indices in order and keeps the running CRC32C; it then sends the run outside the lock while the
 * next thread reads. No thread sits between the state's pipe and the sockets (a hand-off per packet
 * cost more than the read itself), and the pipe and the sockets' kernel buffers keep the back-end
 * writing while a single channel sends. Each channel sends increasing indices, and a channel that
 * finishes its run sooner simply takes the next one. After EOF comes exactly one CONFIG_STATE packet
 * with the virtio device state; then {@link #next} returns null to everyone.
 *
 * <p>A run is what the pipe holds when the thread gets there, rounded up to whole packets, at most
 * {@link #MAX_RUN_BYTES}: one read(2) and one writev(2) then carry up to 16 packets. Per packet,
 * the syscalls and the wake-ups they cause cost more than the copies (measured in
 * docs/bench/README.md), so they are what a run saves; the packets on the wire are the same as one
 * at a time, every data packet full but the last.
 *
 * <p>A batch's buffers are direct (native): the state's pipe is read into them and the socket
 * written from them by the kernel, and the CRC32C runs over them (intrinsic), with no copy in user
 * space and no allocation per packet.
 */
final class PacketProducer {
    /** Bytes of state one channel takes at most per turn (for packets of 64 KiB: 16 packets). */
    static final int MAX_RUN_BYTES = 1 << 20;

    /** Packets per run at most: enough to amortize the syscalls, few enough to share out between channels. */
    static final int MAX_RUN_PACKETS = 16;

    private final ReadableByteChannel in;
    private final int packetSize;
    private final int runPackets;
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
        this.runPackets = (int) Math.max(1, Math.min(MAX_RUN_PACKETS, MAX_RUN_BYTES / (long) packetSize));
        this.configState = configState.clone();
        this.failure = failure;
    }

    /** One channel's buffers: {@link #next} fills them with a run of packets. */
    Batch newBatch() {
        return new Batch(packetSize, runPackets);
    }

    /**
     * Up to {@link #MAX_RUN_PACKETS} consecutive packets, header and data alternating in
     * {@link #frames()}[0 .. 2 × {@link #packets()}); or the CONFIG_STATE packet alone, header and
     * data in frames()[0]. Reused from turn to turn: nothing in it is allocated per packet.
     */
    static final class Batch {
        private final int packetSize;
        private final ByteBuffer data;
        private final ByteBuffer[] headers;
        private final ByteBuffer[] slices;
        private final ByteBuffer[] frames;
        private int packets;
        private int firstIndex;
        private long stateBytes;
        private boolean configState;

        private Batch(int packetSize, int runPackets) {
            this.packetSize = packetSize;
            this.data = ByteBuffer.allocateDirect(packetSize * runPackets);
            ByteBuffer headerBytes = ByteBuffer.allocateDirect(StreamFormat.PACKET_HEADER_BYTES * runPackets);
            this.headers = new ByteBuffer[runPackets];
            this.slices = new ByteBuffer[runPackets];
            this.frames = new ByteBuffer[2 * runPackets];
            for (int i = 0; i < runPackets; i++) {
                headers[i] = headerBytes.slice(i * StreamFormat.PACKET_HEADER_BYTES, StreamFormat.PACKET_HEADER_BYTES);
                slices[i] = data.slice(i * packetSize, packetSize);
            }
        }

        /** How many packets this turn holds. */
        int packets() {
            return packets;
        }

        /** The index of its first packet; the others follow without a gap. */
        int firstIndex() {
            return firstIndex;
        }

        /** Back-end state bytes in it (0 for the CONFIG_STATE packet). */
        long stateBytes() {
            return stateBytes;
        }

        boolean isConfigState() {
            return configState;
        }

        /** The buffers to write, in order, each from its position to its limit; see the class comment. */
        ByteBuffer[] frames() {
            return frames;
        }

        /** How many of {@link #frames()} belong to this turn. */
        int frameCount() {
            return configState ? 1 : 2 * packets;
        }

        /** Bytes on the wire for this turn, headers included. */
        long wireBytes() {
            long n = 0;
            for (int i = 0; i < frameCount(); i++) n += frames[i].remaining();
            return n;
        }

        /**
         * Reads what {@code in} holds now, at least one byte (waiting if it is empty), then on up
         * to a packet boundary or EOF: the bytes read, 0 at EOF.
         */
        private int fill(ReadableByteChannel in) throws IOException {
            data.clear();
            while (data.position() == 0) { // a blocking channel reads at least a byte per call
                if (in.read(data) < 0) return 0;
            }
            int boundary = Math.min(data.capacity(), (data.position() + packetSize - 1) / packetSize * packetSize);
            data.limit(boundary);
            while (data.hasRemaining()) {
                if (in.read(data) < 0) break;
            }
            return data.position();
        }

        private void cut(int first, int n) {
            firstIndex = first;
            configState = false;
            stateBytes = n;
            packets = (n + packetSize - 1) / packetSize;
            for (int i = 0; i < packets; i++) {
                int len = Math.min(packetSize, n - i * packetSize);
                ByteBuffer h = headers[i].clear();
                PacketHeader.data(first + i, len).encode(h, 0);
                frames[2 * i] = h;
                frames[2 * i + 1] = slices[i].clear().limit(len);
            }
        }

        private void configState(int index, byte[] packet) {
            firstIndex = index;
            configState = true;
            stateBytes = 0;
            packets = 1;
            frames[0] = ByteBuffer.wrap(packet);
        }
    }

    /**
     * Fills {@code batch} (from {@link #newBatch}) with the next packets in index order, or with
     * the CONFIG_STATE packet after EOF; false once everything was handed out, or when the
     * session failed (a read error fails it here).
     */
    boolean next(Batch batch) {
        lock.lock();
        try {
            if (failure.hasFailed() || configSent) return false;
            int n = batch.fill(in);
            if (n > 0) {
                data(batch, n);
            } else {
                configStatePacket(batch);
            }
            return true;
        } catch (MigrationException e) {
            failure.fail(e);
        } catch (IOException e) {
            failure.fail(new MigrationException("reading the device state failed: " + e.getMessage(), e));
        } catch (RuntimeException e) { // a bug, or a pipe closed under us: the session fails, the thread lives
            failure.fail(new MigrationException("reading the device state failed: " + e, e));
        } finally {
            lock.unlock();
        }
        return false;
    }

    private void data(Batch batch, int n) throws MigrationException {
        int packets = (n + packetSize - 1) / packetSize;
        if (idx > Integer.MAX_VALUE - packets) {
            throw new MigrationException("state needs more than " + Integer.MAX_VALUE + " packets; use larger packets");
        }
        batch.cut(idx, n);
        idx += packets;
        crc.update(batch.data.flip()); // the run's data in index order: the CRC of its packets one by one
        total += n;
        stateBytes = total;
    }

    private void configStatePacket(Batch batch) throws MigrationException {
        if (idx == Integer.MAX_VALUE) {
            throw new MigrationException("state needs more than " + Integer.MAX_VALUE + " packets; use larger packets");
        }
        int index = idx++;
        PacketHeader h = PacketHeader.configState(index, configState.length);
        byte[] packet = new byte[StreamFormat.PACKET_HEADER_BYTES + configState.length];
        h.encode(packet, 0);
        System.arraycopy(configState, 0, packet, StreamFormat.PACKET_HEADER_BYTES, configState.length);
        crc.update(configState);
        end = new ControlMessage.End(total + configState.length, idx, (int) crc.getValue());
        configSent = true;
        batch.configState(index, packet);
    }

    /** The totals for the End message; non-null once the CONFIG_STATE packet was handed out. */
    ControlMessage.End end() {
        return end;
    }

    long stateBytes() {
        return stateBytes;
    }
}
