package io.jvhost.devices.synthetic;

import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * The bytes of a synthetic state: {@code size} bytes that are a pure function of {@code seed},
 * generated block by block so that no one ever holds the whole state. Each block is a slice of
 * one random pattern (1 MiB, per seed) at an offset that depends on the block's number, with the
 * number itself in its first 8 bytes: no two blocks are equal, a block that moved is recognised,
 * and generating costs about one memory copy, so it does not dominate a throughput measurement.
 */
public final class SyntheticContent {
    /** Bytes per block: the state format's DATA frame size, so one block is about one frame. */
    public static final int BLOCK = 64 * 1024;

    private static final int PATTERN = 1 << 20;
    /** XORed into the block number a block carries in its first 8 bytes. */
    private static final long INDEX_MASK = 0x5A5A_5A5A_5A5A_5A5AL;

    private static final VarHandle LE_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final long seed;
    private final long size;
    private final byte[] pattern = new byte[PATTERN + BLOCK];

    public SyntheticContent(long seed, long size) {
        if (size < 0) throw new IllegalArgumentException("negative size " + size);
        this.seed = seed;
        this.size = size;
        new SplittableRandom(seed).nextBytes(pattern);
    }

    public long seed() {
        return seed;
    }

    public long size() {
        return size;
    }

    public long blocks() {
        return (size + BLOCK - 1) / BLOCK;
    }

    /** Length of block {@code i}: {@link #BLOCK}, except a shorter last one. */
    public int length(long i) {
        return (int) Math.min(BLOCK, size - i * BLOCK);
    }

    /** Writes block {@code i} into {@code dst[0, length(i))}. */
    public void generate(long i, byte[] dst) {
        generate(i, dst, 0);
    }

    /** Writes block {@code i} into {@code dst[at, at + length(i))}. */
    public void generate(long i, byte[] dst, int at) {
        int n = length(i);
        int from = (int) Math.floorMod(i * 0x9E37_79B9L + seed, (long) PATTERN) & ~7;
        System.arraycopy(pattern, from, dst, at, n);
        if (n >= 8) LE_LONG.set(dst, at, i ^ INDEX_MASK);
    }

    /**
     * The content as a stream, generated as it is read. Whole blocks that fit the caller's array
     * are generated straight into it, so streaming costs about one copy a byte, as generating does.
     */
    public InputStream stream() {
        return new InputStream() {
            private final byte[] block = new byte[BLOCK];
            private long next; // the next block to generate
            private int at; // unread bytes of `block`: [at, held)
            private int held;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                Objects.checkFromIndexSize(off, len, b.length);
                if (len == 0) return 0;
                int n = 0;
                while (n < len) {
                    if (at < held) {
                        int k = Math.min(len - n, held - at);
                        System.arraycopy(block, at, b, off + n, k);
                        at += k;
                        n += k;
                    } else if (next == blocks()) {
                        break;
                    } else if (len - n >= length(next)) {
                        generate(next, b, off + n);
                        n += length(next++);
                    } else {
                        generate(next, block, 0);
                        at = 0;
                        held = length(next++);
                    }
                }
                return n == 0 ? -1 : n;
            }
        };
    }

    /** The block number stored in {@code block[0, n)}, or -1 if the block is too short to carry it. */
    static long storedIndex(byte[] block, int n) {
        return n >= 8 ? (long) LE_LONG.get(block, 0) ^ INDEX_MASK : -1;
    }

    /** CRC32C of the whole content, by generating it: what a correct copy must hash to. */
    public int crc32c() {
        CRC32C crc = new CRC32C();
        byte[] block = new byte[BLOCK];
        for (long i = 0, n = blocks(); i < n; i++) {
            generate(i, block);
            crc.update(block, 0, length(i));
        }
        return (int) crc.getValue();
    }
}
