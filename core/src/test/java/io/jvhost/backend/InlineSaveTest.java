package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.CancellableFd;
import io.jvhost.nativeio.FdStreams;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Pipe;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A save that fits the channel's buffer is written by the thread that starts the transfer (the
 * session's, right after the SET_DEVICE_STATE_FD reply), not by a thread of its own; what the
 * channel does not take at once is the transfer thread's. The reader gets the state exactly once
 * whichever way it went.
 */
class InlineSaveTest {
    private static final Duration T = Duration.ofSeconds(10);
    private static final TransferTimeline TIMES = new TransferTimeline("test", System.nanoTime());

    /** A state of {@code bytes}, written in 1000-byte pieces, noting the thread of every writeTo. */
    private record Recorded(byte[] bytes, List<Thread> writers) implements StatefulDevice.SavedState {
        Recorded(byte[] bytes) {
            this(bytes, new CopyOnWriteArrayList<>());
        }

        @Override
        public void writeTo(OutputStream out) throws java.io.IOException {
            writers.add(Thread.currentThread());
            for (int off = 0; off < bytes.length; off += 1000)
                out.write(bytes, off, Math.min(1000, bytes.length - off));
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    private static int pipeSize(Pipe p) throws Exception {
        return Libc.fcntl(p.writeEnd().value(), Libc.F_GETPIPE_SZ, "F_GETPIPE_SZ");
    }

    @Test
    void aStateThatFitsIsWrittenByTheCallerAndTheTransferHasEndedWhenStartReturns() throws Exception {
        // The caller's thread, not a new one: a thread's start cost 0.2-2.5 ms inside the downtime.
        Pipe p = Pipe.create(0);
        int buffered = pipeSize(p);
        Recorded state = new Recorded(random(buffered / 2));
        StateTransfer t =
                StateTransfer.save("inline", state, CancellableFd.forWriting(p.writeEnd(), 0), false, buffered, TIMES);
        t.start();
        assertEquals(List.of(Thread.currentThread()), state.writers(), "built once, by the caller");
        StateTransfer.Outcome o = t.await(Duration.ofMillis(1), () -> false);
        assertTrue(o.succeeded(), o.detail());
        assertEquals("saved " + state.bytes().length + " bytes", o.detail());
        try (InputStream r = FdStreams.input(p.readEnd(), true)) {
            assertArrayEquals(state.bytes(), r.readAllBytes(), "the state, then EOF");
        }
    }

    @Test
    void aStateLargerThanTheBufferIsFinishedByTheTransferThread() throws Exception {
        Pipe p = Pipe.create(0);
        int buffered = pipeSize(p);
        Recorded state = new Recorded(random(3 * buffered + 17));
        StateTransfer t =
                StateTransfer.save("large", state, CancellableFd.forWriting(p.writeEnd(), 0), false, buffered, TIMES);
        t.start();
        byte[] got;
        try (InputStream r = FdStreams.input(p.readEnd(), true)) {
            got = r.readAllBytes();
        }
        StateTransfer.Outcome o = t.await(T, () -> false);
        assertTrue(o.succeeded(), o.detail());
        assertArrayEquals(state.bytes(), got, "once: what the caller wrote is not written again");
        assertEquals(2, state.writers().size(), "begun by the caller, then written by the thread");
        assertSame(Thread.currentThread(), state.writers().get(0));
        assertNotSame(Thread.currentThread(), state.writers().get(1));
        assertEquals("saved " + state.bytes().length + " bytes", o.detail());
    }

    @Test
    void whatTheChannelDoesNotTakeAtOnceIsWrittenByTheThread() throws Exception {
        Pipe p = Pipe.create(0);
        int buffered = pipeSize(p);
        byte[] already = random(buffered - 4096); // the pipe has 4 KiB of room left
        try (OutputStream w = FdStreams.output(p.writeEnd().dup(), true)) {
            w.write(already);
        }
        Recorded state = new Recorded(random(buffered / 2));
        StateTransfer t =
                StateTransfer.save("partial", state, CancellableFd.forWriting(p.writeEnd(), 0), false, buffered, TIMES);
        t.start();
        byte[] got;
        try (InputStream r = FdStreams.input(p.readEnd(), true)) {
            got = r.readAllBytes();
        }
        StateTransfer.Outcome o = t.await(T, () -> false);
        assertEquals(2, state.writers().size(), "begun by the caller; the thread writes it again, the rest only");
        assertTrue(o.succeeded(), o.detail());
        assertEquals(already.length + state.bytes().length, got.length);
        assertArrayEquals(state.bytes(), java.util.Arrays.copyOfRange(got, already.length, got.length));
        assertEquals("saved " + state.bytes().length + " bytes", o.detail(), "counted once, both parts");
    }
}
