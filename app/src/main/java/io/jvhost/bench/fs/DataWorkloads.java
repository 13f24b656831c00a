package io.jvhost.bench.fs;

import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.client.FuseClient.Reply;
import io.jvhost.devices.fs.fuse.Opcode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Sequential READ and WRITE of {@code size}-byte requests, streams taking the next offset in
 * turn and wrapping at the file's end. One unit = one byte. Every READ is compared with the
 * pattern in place (guest memory against the block, no copy); WRITEs send the pattern and are
 * read back after the timed part.
 */
final class DataWorkloads {
    private DataWorkloads() {}

    static final class Read extends Workload {
        private final int size;
        private final long[] offsets;
        private long cursor;

        Read(Target t, int size, int depth) {
            super(t);
            this.size = size;
            this.offsets = new long[depth];
        }

        @Override
        void start(int slot) {
            long at = cursor;
            cursor = (cursor + size) % Fixtures.FILE_SIZE;
            offsets[slot] = at;
            target.fuse.submit(
                    Opcode.READ,
                    target.readFile.nodeId(),
                    List.of(FuseClient.readArgs(target.readFile, at, size)),
                    size,
                    slot);
        }

        @Override
        long complete(Reply r, boolean stopping) throws IOException {
            r.orThrow();
            int slot = slot(r);
            checkPattern(target, r.body(), offsets[slot], size);
            verified += size;
            if (!stopping) start(slot);
            return size;
        }
    }

    static final class Write extends Workload {
        private final int size;
        /** The pattern cut into request-sized pieces: what goes at offset o is piece (o % BLOCK) / size. */
        private final byte[][] pieces;

        private long cursor, extent, written;

        Write(Target t, int size) {
            super(t);
            this.size = size;
            this.pieces = new byte[Fixtures.BLOCK / size][];
            for (int i = 0; i < pieces.length; i++) {
                pieces[i] = java.util.Arrays.copyOfRange(Fixtures.PATTERN, i * size, (i + 1) * size);
            }
        }

        @Override
        void start(int slot) {
            long at = cursor;
            cursor = (cursor + size) % Fixtures.FILE_SIZE;
            extent = Math.max(extent, at + size);
            byte[] data = pieces[(int) (at % Fixtures.BLOCK) / size];
            target.fuse.submit(
                    Opcode.WRITE,
                    target.writeFile.nodeId(),
                    List.of(FuseClient.writeArgs(target.writeFile, at, size), data),
                    FuseClient.WRITE_OUT_SIZE,
                    slot);
        }

        @Override
        long complete(Reply r, boolean stopping) throws IOException {
            int n = r.orThrow().i32(0);
            if (n != size) throw wrong(target, "WRITE of " + size + " bytes wrote " + n);
            written += size;
            if (!stopping) start(slot(r));
            return size;
        }

        /** Reads back everything written so far, a block at a time. */
        @Override
        void verifyAfter() throws IOException {
            FuseClient c = target.fuse;
            for (long at = 0; at < extent; at += Fixtures.BLOCK) {
                int len = (int) Math.min(Fixtures.BLOCK, extent - at);
                c.submit(
                        Opcode.READ,
                        target.writeFile.nodeId(),
                        List.of(FuseClient.readArgs(target.writeFile, at, len)),
                        len,
                        0);
                c.kick();
                try (Reply r = c.next()) {
                    checkPattern(target, r.orThrow().body(), at, len);
                }
            }
            verified = written;
        }
    }

    /** {@code got} must be the pattern bytes that belong at {@code offset}, {@code size} of them. */
    static void checkPattern(Target t, MemorySegment got, long offset, int size) throws IOException {
        if (got.byteSize() != size)
            throw Workload.wrong(t, "READ at " + offset + " gave " + got.byteSize() + " of " + size + " bytes");
        long from = offset % Fixtures.BLOCK;
        long diff = MemorySegment.mismatch(got, 0, size, Fixtures.PATTERN_SEGMENT, from, from + size);
        if (diff != -1)
            throw Workload.wrong(t, "READ at " + offset + ": byte " + diff + " differs from what was written");
    }
}
