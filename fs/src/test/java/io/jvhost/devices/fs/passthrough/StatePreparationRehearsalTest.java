package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Stat;
import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How often a preparation rehearses its save: often enough that the per-node code is compiled
 * before the stop, and never so often that a small state's fixed part takes a CPU from the guest's
 * RAM migration for a second (a 1-node state was rehearsed 65,536 times).
 */
class StatePreparationRehearsalTest {
    @TempDir
    Path share;

    @Test
    void aOneNodeStateIsRehearsedAtMostTheCap() throws Exception {
        assertEquals(StatePreparation.MAX_REHEARSALS, rehearsals());
    }

    /** Runs a preparation of the share's root alone to its end; the rehearsals it wrote. */
    private int rehearsals() throws Exception {
        try (Fd fd = FileCalls.openat(
                null, FileCalls.bytes(share.toString()), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0)) {
            Stat st = FileCalls.fstat(fd);
            InodeTable inodes = new InodeTable(new Inode(FileSystem.ROOT_ID, InodeKey.of(st), st.fileType(), fd, null));
            HandleTable handles = new HandleTable(inodes);
            AtomicReference<Thread> thread = new AtomicReference<>();
            ThreadFactory threads = r -> {
                Thread t = Thread.ofPlatform().daemon().unstarted(r);
                thread.set(t);
                return t;
            };
            AtomicInteger written = new AtomicInteger();
            StatePreparation p = StatePreparation.start(inodes, handles, threads, (snapshot, encoded, sink) -> {
                written.incrementAndGet();
                sink.write(new byte[64]);
            });
            thread.get().join(30_000);
            assertFalse(thread.get().isAlive(), "the preparation ended");
            p.close();
            return written.get();
        }
    }
}
