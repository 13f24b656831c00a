package io.jvhost.bench.fs;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * What the cases work on, put straight into a back-end's shared directory before it starts:
 * a file of {@link #FILE_SIZE} bytes repeating one {@link #BLOCK}-byte pseudo-random block
 * (so any aligned read can be checked against the block), an empty directory for creates and a
 * directory of {@link #LIST_ENTRIES} files.
 */
final class Fixtures {
    static final String READ_FILE = "read.dat", WRITE_FILE = "write.dat", CREATE_DIR = "creates", LIST_DIR = "list";
    static final int BLOCK = 1 << 20, MAX_REQUEST = 1 << 20, LIST_ENTRIES = 1000;
    static final long FILE_SIZE = 32L << 20;

    /** The block, on and off the heap (writes send arrays, reads compare against the segment). */
    static final byte[] PATTERN = pattern();

    static final MemorySegment PATTERN_SEGMENT =
            Arena.global().allocate(BLOCK).copyFrom(MemorySegment.ofArray(PATTERN));

    private Fixtures() {}

    private static byte[] pattern() {
        byte[] b = new byte[BLOCK];
        new Random(0x6a76686f7374L).nextBytes(b);
        return b;
    }

    static String listName(int i) {
        return String.format("e%04d", i);
    }

    static void create(Path shared) throws IOException {
        try (FileChannel ch = FileChannel.open(
                shared.resolve(READ_FILE),
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long at = 0; at < FILE_SIZE; at += BLOCK) {
                ByteBuffer b = ByteBuffer.wrap(PATTERN);
                while (b.hasRemaining()) ch.write(b, at + b.position());
            }
        }
        Files.createDirectories(shared.resolve(CREATE_DIR));
        Path list = Files.createDirectories(shared.resolve(LIST_DIR));
        for (int i = 0; i < LIST_ENTRIES; i++) Files.createFile(list.resolve(listName(i)));
    }
}
