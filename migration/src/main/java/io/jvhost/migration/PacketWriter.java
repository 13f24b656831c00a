package io.jvhost.migration;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Writes a source channel's {@link PacketProducer.Batch} to its connection. A socket gets the
 * whole run, headers and data interleaved, in gathering writes (writev(2): one syscall for up to
 * 16 packets, from the batch's buffers, nothing copied); a channel filter's stream gets each packet
 * as one write of its header and data together, as it always did.
 */
sealed interface PacketWriter {
    void write(PacketProducer.Batch batch) throws IOException;

    static PacketWriter over(WritableByteChannel out) {
        return out instanceof GatheringByteChannel g ? new Gathering(g) : new PerPacket(out);
    }

    /** Whole runs, writev by writev; a short write continues where it stopped. */
    record Gathering(GatheringByteChannel out) implements PacketWriter {
        @Override
        public void write(PacketProducer.Batch batch) throws IOException {
            ByteBuffer[] frames = batch.frames();
            int count = batch.frameCount();
            int first = 0;
            while (true) {
                while (first < count && !frames[first].hasRemaining()) first++;
                if (first == count) return;
                out.write(frames, first, count - first); // blocking: returns after writing some bytes
            }
        }
    }

    /**
     * One write per packet, header and data contiguous in an array of the channel's own (a filter
     * is a java.io stream: it takes the array as it is, so this is the path's only copy).
     */
    final class PerPacket implements PacketWriter {
        private final WritableByteChannel out;
        private ByteBuffer frame = ByteBuffer.allocate(0);

        PerPacket(WritableByteChannel out) {
            this.out = out;
        }

        @Override
        public void write(PacketProducer.Batch batch) throws IOException {
            ByteBuffer[] frames = batch.frames();
            if (batch.isConfigState()) {
                writeFully(frames[0]);
                return;
            }
            for (int i = 0; i < batch.packets(); i++) {
                ByteBuffer header = frames[2 * i];
                ByteBuffer data = frames[2 * i + 1];
                int n = header.remaining() + data.remaining();
                if (frame.capacity() < n) frame = ByteBuffer.allocate(n);
                frame.clear().put(header).put(data).flip();
                writeFully(frame);
            }
        }

        private void writeFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                out.write(b);
            }
        }
    }
}
