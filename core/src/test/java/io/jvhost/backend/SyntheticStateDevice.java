package io.jvhost.backend;

import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.state.LoadedState;
import io.jvhost.state.StateFormatException;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateWriter;
import io.jvhost.virtqueue.ChainWriter;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32C;

/**
 * A test device with a migratable state of configurable size and content: a blob of bytes and
 * a count of requests served. Each request (queue 0) is answered with 16 bytes: the number of
 * requests served so far including this one (u64), the blob's length (u32) and its CRC32C
 * (u32), so a driver sees from the ring whether the state moved. The state is written in the
 * {@code state} format; {@link #failNextLoads} makes loads fail after parsing, as a device that
 * rejects a well-formed but unacceptable state would.
 */
public final class SyntheticStateDevice implements StatefulDevice {
    static final String TYPE = "synthetic";
    static final int BLOCK = 64 * 1024;

    private record State(byte[] blob, long served) {}

    private volatile State state;
    private volatile boolean failLoads;
    private volatile boolean failSaves;
    private volatile int commits;

    /** A blob of {@code size} bytes of a pseudo-random pattern from {@code seed}. */
    public SyntheticStateDevice(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        state = new State(b, 0);
    }

    public void failNextLoads(boolean on) {
        failLoads = on;
    }

    public void failNextSaves(boolean on) {
        failSaves = on;
    }

    public byte[] blob() {
        return state.blob().clone();
    }

    public long served() {
        return state.served();
    }

    /** How many loads were committed. */
    public int commits() {
        return commits;
    }

    public static long crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return c.getValue();
    }

    @Override
    public String name() {
        return "synthetic";
    }


    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public long features() {
        return VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.RING_EVENT_IDX);
    }

    @Override
    public long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException {
        State s = state;
        State next = new State(s.blob(), s.served() + 1);
        state = next;
        ByteBuffer reply = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        reply.putLong(next.served()).putInt(s.blob().length).putInt((int) crc(s.blob()));
        ChainWriter out = chain.writer();
        out.write(reply.array(), 0, 16);
        return 16;
    }

    @Override
    public SavedState captureState() throws DeviceException {
        if (failSaves) throw new DeviceException("refusing to save (failNextSaves)");
        State s = state; // immutable: the blob is never written after construction or load
        return out -> write(s, out);
    }

    private static void write(State s, OutputStream out) throws IOException {
        StateWriter w = StateWriter.create(out, TYPE);
        w.section("counters", 1, 1, o -> o.u64(s.served()));
        w.section("blob", 1, 1, o -> {
            int blocks = (s.blob().length + BLOCK - 1) / BLOCK;
            o.u64(s.blob().length).count(blocks);
            for (int i = 0; i < blocks; i++) {
                int from = i * BLOCK;
                o.bytes(s.blob(), from, Math.min(BLOCK, s.blob().length - from));
            }
        });
        w.finish();
    }

    @Override
    public PreparedState prepareLoad(InputStream in) throws IOException, DeviceException {
        LoadedState loaded = StateReader.forDevice(TYPE)
                .section("counters", 1, (v, i) -> i.u64())
                .section("blob", 1, (v, i) -> {
                    long length = i.u64();
                    if (length < 0 || length > Integer.MAX_VALUE - 8) throw new StateFormatException("blob of " + length + " bytes");
                    byte[] blob = new byte[(int) length];
                    int blocks = i.count((blob.length + BLOCK - 1) / BLOCK);
                    int at = 0;
                    for (int k = 0; k < blocks; k++) {
                        byte[] part = i.bytes(BLOCK);
                        if (part.length > blob.length - at) throw new StateFormatException("blocks exceed the declared length");
                        System.arraycopy(part, 0, blob, at, part.length);
                        at += part.length;
                    }
                    if (at != blob.length) throw new StateFormatException("blocks hold " + at + " of " + blob.length + " bytes");
                    return blob;
                })
                .build()
                .readAll(in);
        long served = loaded.get("counters", Long.class);
        byte[] blob = loaded.get("blob", byte[].class);
        if (failLoads) throw new DeviceException("refusing the state (failNextLoads)");
        State next = new State(blob, served);
        return () -> {
            state = next;
            commits++;
        };
    }

    @Override
    public void reset() {
        // The state stays: it is the device's "internal" state, like virtiofsd's open files,
        // which a reconnecting front-end does not erase either.
    }

    @Override
    public String toString() {
        State s = state;
        return "SyntheticStateDevice[" + s.blob().length + " bytes, crc " + Long.toHexString(crc(s.blob()))
                + ", served " + s.served() + "]";
    }

    static boolean sameState(SyntheticStateDevice a, SyntheticStateDevice b) {
        return Arrays.equals(a.state.blob(), b.state.blob()) && a.served() == b.served();
    }
}
