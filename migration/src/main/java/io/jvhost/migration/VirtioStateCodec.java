package io.jvhost.migration;

import io.jvhost.state.IfUnknown;
import io.jvhost.state.LoadedState;
import io.jvhost.state.SectionInput;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes {@link VirtioDeviceState} in the project's versioned state format, in seed 003's order:
 * common device fields, common virtqueue fields, then subsections written only when needed (64-bit
 * features; the virtio-1 ring addresses). A destination that predates a future subsection marked
 * skippable still loads the state.
 */
final class VirtioStateCodec {
    static final String DEVICE_TYPE = "virtio";
    static final String SECTION = "virtio-core";
    static final String FEATURES_64 = "features-64";
    static final String RINGS = "virtio-1-rings";

    private VirtioStateCodec() {}

    static byte[] encode(VirtioDeviceState s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(
                256 + s.config().length + 32 * s.queues().size());
        try {
            StateWriter w = StateWriter.create(out, DEVICE_TYPE);
            w.section(SECTION, 1, 1, o -> {
                o.u8(s.status()).u32(s.features() & 0xFFFF_FFFFL).bytes(s.config());
                o.list(
                        s.queues(),
                        (q, queue) -> q.u16(queue.size())
                                .u16(queue.nextAvail())
                                .bool(queue.enabled())
                                .u64(queue.descAddr()));
                o.subsectionIf(
                        s.hasHighFeatures(), FEATURES_64, 1, IfUnknown.FAIL, sub -> sub.u32(s.features() >>> 32));
                o.subsectionIf(
                        s.needsRingAddresses(),
                        RINGS,
                        1,
                        IfUnknown.FAIL,
                        sub -> sub.list(
                                s.queues(),
                                (q, queue) -> q.u64(queue.availAddr()).u64(queue.usedAddr())));
            });
            w.finish();
        } catch (IOException e) {
            throw new UncheckedIOException("a ByteArrayOutputStream does not fail", e);
        }
        return out.toByteArray();
    }

    /** Parses and validates an encoded state; anything malformed is a {@code StateFormatException}. */
    static VirtioDeviceState decode(byte[] blob) throws IOException {
        LoadedState loaded = READER.readAll(new ByteArrayInputStream(blob));
        return loaded.get(SECTION, Staging.class).build();
    }

    private static final StateReader READER = StateReader.forDevice(DEVICE_TYPE)
            .section(SECTION, 1, VirtioStateCodec::load)
            .build();

    /** Mutable only while loading; the subsection loaders complete it after the section's fields. */
    private static final class Staging {
        int status;
        long features;
        byte[] config;
        List<int[]> queues;
        List<Boolean> enabled;
        List<Long> desc;
        List<long[]> rings;

        VirtioDeviceState build() throws IOException {
            List<VirtioDeviceState.QueueState> qs = new ArrayList<>(queues.size());
            for (int i = 0; i < queues.size(); i++) {
                long[] r = rings == null ? new long[2] : rings.get(i);
                qs.add(new VirtioDeviceState.QueueState(
                        queues.get(i)[0], queues.get(i)[1], enabled.get(i), desc.get(i), r[0], r[1]));
            }
            return new VirtioDeviceState(features, status, config, qs);
        }
    }

    private static Staging load(int version, SectionInput in) throws IOException {
        Staging s = new Staging();
        s.status = in.u8();
        s.features = in.u32();
        s.config = in.bytes(VirtioDeviceState.MAX_CONFIG_BYTES);
        int n = in.count(VirtioDeviceState.MAX_QUEUES);
        s.queues = new ArrayList<>(n);
        s.enabled = new ArrayList<>(n);
        s.desc = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int size = in.u16();
            if (size > VirtioDeviceState.MAX_QUEUE_SIZE || (size & (size - 1)) != 0) {
                throw in.malformed("queue " + i + " has size " + size + ", not 0 or a power of two up to "
                        + VirtioDeviceState.MAX_QUEUE_SIZE);
            }
            s.queues.add(new int[] {size, in.u16()});
            s.enabled.add(in.bool());
            s.desc.add(in.u64());
        }
        in.onSubsection(FEATURES_64, 1, (v, sub) -> s.features |= sub.u32() << 32);
        in.onSubsection(RINGS, 1, (v, sub) -> {
            List<long[]> rings = sub.list(VirtioDeviceState.MAX_QUEUES, q -> new long[] {q.u64(), q.u64()});
            if (rings.size() != n) {
                throw sub.malformed(rings.size() + " ring address pairs for " + n + " queues");
            }
            s.rings = rings;
        });
        return s;
    }
}
