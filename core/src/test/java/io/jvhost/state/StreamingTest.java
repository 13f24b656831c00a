package io.jvhost.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * 200+ MiB of state through an OS pipe (64 KiB of buffer) between a writer and a reader thread,
 * generated and consumed on the fly. If either side held the state, the writer would get far
 * ahead of the reader; the reader checks it never does.
 */
class StreamingTest {
    static final int ELEMENTS = 3_200_000;
    static final int HANDLE_BYTES = 48;
    /** Elements the writer may be ahead: pipe, writer chunk and both sides' buffers hold well under 1 MiB. */
    static final long MAX_LAG = 100_000;

    /** All the reader keeps: the state itself is checked element by element and dropped. */
    static final class Staging {
        long count;
        long tail;
    }

    static long mix(long h, long v) {
        return (h ^ v) * 0x9E37_79B9_7F4A_7C15L;
    }

    /** Element i's file handle, derived from i so neither side stores it. */
    static void fillHandle(byte[] fh, long i) {
        for (int k = 0; k < HANDLE_BYTES; k += 8) {
            long v = mix(i, k);
            for (int b = 0; b < 8; b++) {
                fh[k + b] = (byte) (v >>> (8 * b));
            }
        }
    }

    static final class Lazy extends AbstractList<Long> {
        @Override
        public Long get(int index) {
            return (long) index;
        }

        @Override
        public int size() {
            return ELEMENTS;
        }
    }

    @Test
    void twoHundredMegabytesStreamThroughAPipe() throws Exception {
        Pipe pipe = Pipe.open();
        AtomicLong written = new AtomicLong();
        AtomicLong read = new AtomicLong();
        AtomicLong maxLag = new AtomicLong();
        long started = System.nanoTime();

        CompletableFuture<StateSummary> writer = CompletableFuture.supplyAsync(() -> {
            try (OutputStream out = Channels.newOutputStream(pipe.sink())) {
                StateWriter w = StateWriter.create(out, "stream-test");
                byte[] fh = new byte[HANDLE_BYTES];
                w.section("inodes", 1, 1, s -> {
                    s.list(new Lazy(), (o, i) -> {
                        fillHandle(fh, i);
                        o.u64(i).u64(i / 3).bytes(fh).varint(i & 0xFFFF).bool((i & 1) == 0);
                        written.incrementAndGet();
                    });
                    s.subsection("tail", 1, IfUnknown.FAIL, t -> t.u64(ELEMENTS));
                });
                w.section("after", 1, 1, s -> s.string("still streaming"));
                return w.finish();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });

        StateReader reader = StateReader.forDevice("stream-test")
                .section("inodes", 1, (v, in) -> {
                    Staging st = new Staging();
                    int n = in.count(Integer.MAX_VALUE);
                    byte[] expected = new byte[HANDLE_BYTES];
                    for (int i = 0; i < n; i++) {
                        long id = in.u64();
                        long parent = in.u64();
                        byte[] fh = in.bytes(HANDLE_BYTES);
                        long refs = in.varint();
                        boolean even = in.bool();
                        fillHandle(expected, i);
                        if (id != i
                                || parent != i / 3
                                || refs != (i & 0xFFFF)
                                || even != ((i & 1) == 0)
                                || !Arrays.equals(fh, expected)) {
                            throw in.malformed("element " + i + " differs from what was written");
                        }
                        long r = read.incrementAndGet();
                        if ((r & 0xFFFF) == 0) {
                            maxLag.accumulateAndGet(written.get() - r, Math::max);
                        }
                    }
                    st.count = n;
                    in.onSubsection("tail", 1, (sv, sub) -> st.tail = sub.u64());
                    return st;
                })
                .section("after", 1, (v, in) -> in.string())
                .build();

        LoadedState loaded;
        try (InputStream in = Channels.newInputStream(pipe.source())) {
            loaded = reader.readAll(in);
        }
        StateSummary summary = writer.get(60, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - started) / 1e9;

        assertTrue(summary.totalBytes() > 200L << 20, summary.render());
        assertEquals(summary, loaded.summary());
        Staging inodes = loaded.get("inodes", Staging.class);
        assertEquals(ELEMENTS, inodes.count);
        assertEquals(ELEMENTS, inodes.tail);
        assertEquals("still streaming", loaded.get("after", String.class));
        assertTrue(maxLag.get() < MAX_LAG, "writer ran " + maxLag.get() + " elements ahead of the reader");
        System.out.printf(
                "streamed %s in %.2f s (%.0f MiB/s), max writer lead %d elements%n",
                StateSummary.humanBytes(summary.totalBytes()),
                seconds,
                summary.totalBytes() / seconds / (1 << 20),
                maxLag.get());
    }
}
