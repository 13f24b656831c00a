package io.jvhost.state;

import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32C;

/** Buffered output that counts bytes and keeps the running CRC32C of everything written. */
final class BlobOutput {
    private static final int BUFFER = 1 << 16;

    private final OutputStream out;
    private final byte[] buf = new byte[BUFFER];
    private int len;
    private long flushed;
    private final CRC32C crc = new CRC32C();

    BlobOutput(OutputStream out) {
        this.out = out;
    }

    long offset() {
        return flushed + len;
    }

    void u8(int v) throws IOException {
        if (len == buf.length) {
            drain();
        }
        buf[len++] = (byte) v;
    }

    void le(long v, int bytes) throws IOException {
        for (int i = 0; i < bytes; i++) {
            u8((int) (v >>> (8 * i)));
        }
    }

    void varint(long v) throws IOException {
        while ((v & ~0x7FL) != 0) {
            u8((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        u8((int) v);
    }

    void write(byte[] b, int off, int n) throws IOException {
        if (len + n >= buf.length && len > 0) {
            // Top the buffer up first: a frame's few header bytes then leave with its data in one
            // full write, not as a write of their own ahead of it (one syscall less per block).
            int fill = buf.length - len;
            System.arraycopy(b, off, buf, len, fill);
            len = buf.length;
            drain();
            off += fill;
            n -= fill;
        }
        if (n >= buf.length) {
            crc.update(b, off, n);
            out.write(b, off, n);
            flushed += n;
            return;
        }
        if (len + n > buf.length) {
            drain();
        }
        System.arraycopy(b, off, buf, len, n);
        len += n;
    }

    /** CRC32C of every byte written so far; drains the buffer first, since bytes enter the CRC as they are passed on. */
    int crc() throws IOException {
        drain();
        return (int) crc.getValue();
    }

    void flush() throws IOException {
        drain();
        out.flush();
    }

    private void drain() throws IOException {
        if (len > 0) {
            crc.update(buf, 0, len);
            out.write(buf, 0, len);
            flushed += len;
            len = 0;
        }
    }
}
