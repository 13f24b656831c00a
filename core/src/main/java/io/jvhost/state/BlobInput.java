package io.jvhost.state;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Buffered input that tracks the byte offset and the CRC32C of every byte consumed, and turns
 * end-of-stream into a {@link StateFormatException}. It also remembers the first format failure
 * it reported, so a loader that catches and swallows one cannot make a broken blob load.
 */
final class BlobInput implements Varint.ByteSource {
    /** Small: most blobs a destination rejects are tiny, and a pipe delivers at most 64 KiB per read anyway. */
    private static final int BUFFER = 1 << 17; // fewer read(2) calls on a state pipe

    private static final VarHandle LE_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final InputStream in;
    private final byte[] buf = new byte[BUFFER];
    private int pos;
    private int lim;
    /** buf[crcFrom, pos) has been consumed but not yet folded into the CRC. */
    private int crcFrom;

    private long bufStart;
    private final CRC32C crc = new CRC32C();
    private boolean eof;
    private String where = "state header";
    private StateFormatException firstFailure;

    BlobInput(InputStream in) {
        this.in = in;
    }

    long offset() {
        return bufStart + pos;
    }

    /** Names the part of the blob being read, for error messages. */
    void where(String where) {
        this.where = where;
    }

    @Override
    public StateFormatException fail(String message) {
        return failAt(offset(), message);
    }

    StateFormatException failAt(long offset, String message) {
        StateFormatException e = new StateFormatException(where + ", offset " + offset + ": " + message, offset);
        if (firstFailure == null) {
            firstFailure = e;
        }
        return e;
    }

    /** The first failure reported, even if whoever received it did not propagate it. */
    StateFormatException firstFailure() {
        return firstFailure;
    }

    @Override
    public int u8() throws IOException {
        if (pos == lim && !fill()) {
            throw truncated();
        }
        return buf[pos++] & 0xFF;
    }

    /** Little-endian unsigned value of 1..8 bytes. */
    long le(int bytes) throws IOException {
        if (lim - pos >= bytes) {
            long v;
            if (bytes == 8) {
                v = (long) LE_LONG.get(buf, pos);
            } else if (bytes == 4) {
                v = (int) LE_INT.get(buf, pos) & 0xFFFF_FFFFL;
            } else {
                v = 0;
                for (int i = 0; i < bytes; i++) {
                    v |= (long) (buf[pos + i] & 0xFF) << (8 * i);
                }
            }
            pos += bytes;
            return v;
        }
        long v = 0;
        for (int i = 0; i < bytes; i++) {
            v |= (long) u8() << (8 * i);
        }
        return v;
    }

    /** Copies 1..n bytes, as many as are buffered; never blocks for more than one read. */
    int readSome(byte[] dst, int off, int n) throws IOException {
        if (pos == lim && !fill()) {
            throw truncated();
        }
        int k = Math.min(n, lim - pos);
        System.arraycopy(buf, pos, dst, off, k);
        pos += k;
        return k;
    }

    void readFully(byte[] dst, int off, int n) throws IOException {
        while (n > 0) {
            int k = readSome(dst, off, n);
            off += k;
            n -= k;
        }
    }

    /** Consumes n bytes; they are read, not skipped in the stream, because the CRC covers them. */
    void skip(long n) throws IOException {
        while (n > 0) {
            if (pos == lim && !fill()) {
                throw truncated();
            }
            int k = (int) Math.min(n, lim - pos);
            pos += k;
            n -= k;
        }
    }

    /** CRC32C of every byte consumed so far. */
    int crc() {
        foldCrc();
        return (int) crc.getValue();
    }

    boolean atEof() throws IOException {
        return pos == lim && !fill();
    }

    StateFormatException truncated() {
        return fail("state ends early (truncated): expected more data");
    }

    private void foldCrc() {
        crc.update(buf, crcFrom, pos - crcFrom);
        crcFrom = pos;
    }

    private boolean fill() throws IOException {
        if (eof) {
            return false;
        }
        foldCrc();
        bufStart += lim;
        pos = lim = crcFrom = 0;
        int n;
        do {
            n = in.read(buf, 0, buf.length);
        } while (n == 0);
        if (n < 0) {
            eof = true;
            return false;
        }
        lim = n;
        return true;
    }
}
