package io.jvhost.devices.synthetic;

import io.jvhost.backend.DeviceException;
import io.jvhost.backend.StatefulDevice;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.state.LoadedState;
import io.jvhost.state.SectionInput;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateSummary;
import io.jvhost.state.StateWriter;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * A device whose migratable state is {@code size} synthetic bytes ({@link SyntheticContent}), for
 * measuring state transfers of any size, 1 GiB and more, through real vhost-user back-ends.
 * The content is never held: a save generates it block by block from the seed while writing; a
 * load checks each block's number and a CRC32C of all blocks while reading, keeping one block,
 * and commits only the description (seed, size, CRC). Memory stays a few MiB whatever the size.
 *
 * <p>Each request on queue 0 is answered with 16 bytes, requests served so far (u64) and the
 * state's size (u64), so a driver sees from the ring which state a back-end holds.
 */
public final class SyntheticStateDevice implements StatefulDevice {
    public static final String STATE_TYPE = "synthetic";
    private static final String SECTION = "content";

    /** What the device holds: the content's description; {@code crc32c} is known once saved or loaded. */
    public record Held(long seed, long size, Optional<Integer> crc32c) {}

    /** The last completed save: blob bytes written and the content's CRC32C. */
    public record Saved(long blobBytes, int crc32c) {}

    private volatile Held held;
    private volatile long served;
    private volatile Saved lastSave;
    private volatile int commits;

    /** A device holding {@code size} bytes generated from {@code seed}. */
    public SyntheticStateDevice(long size, long seed) {
        if (size < 0) throw new IllegalArgumentException("negative size " + size);
        this.held = new Held(seed, size, Optional.empty());
    }

    /** An empty device, e.g. a migration destination. */
    public static SyntheticStateDevice empty() {
        return new SyntheticStateDevice(0, 0);
    }

    public Held held() {
        return held;
    }

    public Optional<Saved> lastSave() {
        return Optional.ofNullable(lastSave);
    }

    /** Requests served so far: part of the state, so a destination continues the source's count. */
    public long served() {
        return served;
    }

    /** How many loads were committed. */
    public int commits() {
        return commits;
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
        long n = ++served; // one queue, one worker thread
        ByteBuffer reply = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(n)
                .putLong(held.size());
        chain.writer().write(reply.array(), 0, 16);
        return 16;
    }

    @Override
    public SavedState captureState() {
        Held h = held; // immutable; the content is a function of it
        long s = served;
        return out -> write(h, s, out);
    }

    private void write(Held h, long servedAtCapture, OutputStream out) throws IOException {
        SyntheticContent content = new SyntheticContent(h.seed(), h.size());
        CRC32C crc = new CRC32C();
        StateWriter w = StateWriter.create(out, STATE_TYPE);
        w.section("counters", 1, 1, o -> o.u64(servedAtCapture));
        w.section(SECTION, 1, 1, o -> {
            o.u64(h.seed()).u64(h.size());
            byte[] block = new byte[SyntheticContent.BLOCK];
            for (long i = 0, n = content.blocks(); i < n; i++) {
                content.generate(i, block);
                int len = content.length(i);
                crc.update(block, 0, len);
                o.bytes(block, 0, len);
            }
            o.u32((int) crc.getValue() & 0xFFFF_FFFFL);
        });
        StateSummary summary = w.finish(); // the writer counts the blob's bytes itself
        lastSave = new Saved(summary.totalBytes(), (int) crc.getValue());
    }

    @Override
    public PreparedState prepareLoad(InputStream in) throws IOException, DeviceException {
        LoadedState loaded = StateReader.forDevice(STATE_TYPE)
                .section("counters", 1, (v, i) -> i.u64())
                .section(SECTION, 1, (v, i) -> readContent(i))
                .build()
                .readAll(in);
        long servedThen = loaded.get("counters", Long.class);
        Held next = loaded.get(SECTION, Held.class);
        return () -> {
            held = next;
            served = servedThen;
            commits++;
        };
    }

    /** Streams the blocks through a CRC32C and one reused buffer; the CRC must match the writer's. */
    private static Held readContent(SectionInput i) throws IOException {
        long seed = i.u64();
        long size = i.u64();
        if (size < 0) throw i.malformed("content of " + Long.toUnsignedString(size) + " bytes");
        long blocks = (size + SyntheticContent.BLOCK - 1) / SyntheticContent.BLOCK;
        CRC32C crc = new CRC32C();
        byte[] block = new byte[SyntheticContent.BLOCK];
        for (long k = 0; k < blocks; k++) {
            int n = i.bytes(block);
            int expected = (int) Math.min(SyntheticContent.BLOCK, size - k * SyntheticContent.BLOCK);
            if (n != expected) {
                throw i.malformed("block " + k + " has " + n + " bytes, expected " + expected);
            }
            long stored = SyntheticContent.storedIndex(block, n);
            if (stored != -1 && stored != k) throw i.malformed("block " + k + " carries number " + stored);
            crc.update(block, 0, n);
        }
        int written = (int) i.u32();
        if (written != (int) crc.getValue()) {
            throw i.malformed("content CRC32C " + hex(crc.getValue()) + " differs from the written " + hex(written));
        }
        return new Held(seed, size, Optional.of(written));
    }

    private static String hex(long v) {
        return String.format("%08x", v & 0xFFFF_FFFFL);
    }

    @Override
    public void reset() {
        // The state stays, like a real device's internal state across front-end reconnects.
    }

    @Override
    public String toString() {
        Held h = held;
        return "SyntheticStateDevice[" + h.size() + " bytes, seed " + h.seed() + ", served " + served + "]";
    }
}
