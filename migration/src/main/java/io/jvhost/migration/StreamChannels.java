package io.jvhost.migration;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * The stream works on byte channels (direct buffers, no copy between the heap and native memory);
 * these adapt the java.io streams callers and filters hand in, at the cost of that copy.
 */
final class StreamChannels {
    private StreamChannels() {}

    /** {@code in} itself if it is a channel too (e.g. a pipe's stream), else an adapter. */
    static ReadableByteChannel readable(InputStream in) {
        return in instanceof ReadableByteChannel c ? c : Channels.newChannel(in);
    }

    /**
     * A channel writing each buffer as <em>one</em> {@code out.write} (a filter sees a packet as
     * one write, as before); closing it flushes and closes {@code out}.
     */
    static WritableByteChannel writable(OutputStream out) {
        return new StreamOutput(out);
    }

    private static final class StreamOutput implements WritableByteChannel {
        private final OutputStream out;
        private byte[] copy = new byte[0];
        private boolean open = true;

        StreamOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public synchronized int write(ByteBuffer src) throws IOException {
            int n = src.remaining();
            if (src.hasArray()) {
                out.write(src.array(), src.arrayOffset() + src.position(), n);
            } else {
                if (copy.length < n) copy = new byte[n];
                src.duplicate().get(copy, 0, n);
                out.write(copy, 0, n);
            }
            src.position(src.limit());
            return n;
        }

        @Override
        public synchronized boolean isOpen() {
            return open;
        }

        @Override
        public synchronized void close() throws IOException {
            open = false;
            out.flush();
            out.close();
        }
    }
}
