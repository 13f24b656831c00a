package io.jvhost.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FieldRoundTripTest {

    record Everything(
            int u8,
            int u16,
            long u32,
            long u64,
            List<Long> varints,
            boolean yes,
            boolean no,
            byte[] empty,
            byte[] big,
            String ascii,
            String unicode,
            List<String> names) {}

    static final long[] VARINTS = {0, 1, 127, 128, 16_383, 16_384, (1L << 35) + 7, Long.MAX_VALUE, -1L, Long.MIN_VALUE};
    /** Larger than a DATA frame, so it spans several. */
    static final byte[] BIG = new Random(7)
            .ints(200_000, 0, 256)
            .collect(ByteArrayOutputStream::new, ByteArrayOutputStream::write, (a, b) -> a.writeBytes(b.toByteArray()))
            .toByteArray();

    static final String UNICODE = "\u00e9t\u00e9 \u6f22\u5b57 \ud83d\ude00 end";

    static final class Staging {
        Everything fields;
        String level2;
        long level3;
        final List<String> order = new ArrayList<>();
    }

    static byte[] writeAll() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(bos, "test-device");
        w.section("all-fields", 3, 2, out -> {
            out.u8(255).u16(65535).u32(0xFFFF_FFFFL).u64(-2L);
            for (long v : VARINTS) {
                out.varint(v);
            }
            out.bool(true)
                    .bool(false)
                    .bytes(new byte[0])
                    .bytes(BIG)
                    .string("plain")
                    .string(UNICODE);
            out.list(List.of("a", "", UNICODE), SectionOutput::string);
            out.subsection("level2", 1, IfUnknown.FAIL, l2 -> {
                l2.string("two");
                l2.subsection("level3", 4, 1, IfUnknown.SKIP, l3 -> l3.u64(3));
                l2.subsection("level3-empty", 1, IfUnknown.SKIP, l3 -> {});
            });
            out.subsection("sibling", 1, IfUnknown.FAIL, s -> s.u8(9));
        });
        w.section("empty", 1, 1, out -> {});
        w.finish();
        return bos.toByteArray();
    }

    static StateReader reader(Staging st) {
        return StateReader.forDevice("test-device")
                .section("all-fields", 3, (v, in) -> {
                    assertEquals(3, v);
                    int u8 = in.u8();
                    int u16 = in.u16();
                    long u32 = in.u32();
                    long u64 = in.u64();
                    List<Long> varints = new ArrayList<>();
                    for (int i = 0; i < VARINTS.length; i++) {
                        varints.add(in.varint());
                    }
                    st.fields = new Everything(
                            u8,
                            u16,
                            u32,
                            u64,
                            varints,
                            in.bool(),
                            in.bool(),
                            in.bytes(),
                            in.bytes(BIG.length),
                            in.string(),
                            in.string(100),
                            in.list(10, e -> e.string(100)));
                    in.onSubsection("level2", 1, (v2, l2) -> {
                        st.order.add("level2");
                        st.level2 = l2.string();
                        l2.onSubsection("level3", 4, (v3, l3) -> {
                            st.order.add("level3 v" + v3);
                            st.level3 = l3.u64();
                        });
                        l2.onSubsection("level3-empty", 1, (v3, l3) -> st.order.add("level3-empty"));
                    });
                    in.onSubsection("sibling", 1, (vs, s) -> st.order.add("sibling " + s.u8()));
                    st.order.add("fields");
                    return st;
                })
                .section("empty", 1, (v, in) -> "empty-staging")
                .build();
    }

    @Test
    void everyFieldTypeAndNestedSubsectionsRoundTrip() throws IOException {
        byte[] blob = writeAll();
        Staging st = new Staging();
        LoadedState loaded = reader(st).readAll(new ByteArrayInputStream(blob));

        Everything f = st.fields;
        assertEquals(255, f.u8());
        assertEquals(65535, f.u16());
        assertEquals(0xFFFF_FFFFL, f.u32());
        assertEquals(-2L, f.u64());
        for (int i = 0; i < VARINTS.length; i++) {
            assertEquals(VARINTS[i], f.varints().get(i));
        }
        assertTrue(f.yes());
        assertFalse(f.no());
        assertEquals(0, f.empty().length);
        assertArrayEquals(BIG, f.big());
        assertEquals("plain", f.ascii());
        assertEquals(UNICODE, f.unicode());
        assertEquals(List.of("a", "", UNICODE), f.names());
        assertEquals("two", st.level2);
        assertEquals(3, st.level3);
        // Subsections load after their parent's fields, in blob order, depth first.
        assertEquals(List.of("fields", "level2", "level3 v4", "level3-empty", "sibling 9"), st.order);
        assertEquals("empty-staging", loaded.get("empty", String.class));
        assertTrue(loaded.skipped().isEmpty());
        assertEquals("test-device", loaded.deviceType());
    }

    @Test
    void summariesAgreeBetweenWriterReaderAndDescribe() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        StateSummary written = SampleFs.save(SampleFs.sample(new Random(1), 500, true, true), 2, bos);
        byte[] blob = bos.toByteArray();
        assertEquals(blob.length, written.totalBytes());

        LoadedState loaded = SampleFs.reader(2).readAll(new ByteArrayInputStream(blob));
        assertEquals(written, loaded.summary());
        assertEquals(written, StateReader.describe(new ByteArrayInputStream(blob)));

        // Header (8 magic + 2 version + 1 + 9 type) and end marker (1 + 8 + 4) are the only bytes outside sections.
        long inSections =
                written.sections().stream().mapToLong(ScopeSummary::bytes).sum();
        assertEquals(blob.length - (8 + 2 + 1 + SampleFs.TYPE.length()) - 13, inSections);

        ScopeSummary inodes = written.sections().get(0);
        assertEquals("inodes", inodes.name());
        assertEquals(2, inodes.version());
        assertEquals(1, inodes.minVersion());
        assertEquals(
                List.of("posix-locks", "lookup-stats"),
                inodes.subsections().stream().map(ScopeSummary::name).toList());
        String text = written.render();
        assertTrue(text.startsWith("virtio-fs state, format 1: "), text);
        assertTrue(text.contains("\n  inodes v2 (min 1): "), text);
        assertTrue(text.contains("\n    lookup-stats v1 [skippable]: "), text);
    }

    @Test
    void sampleDeviceStateRoundTrips() throws IOException {
        SampleFs.State s = SampleFs.sample(new Random(2), 300, true, true);
        SampleFs.Device d = new SampleFs.Device(2, null);
        d.load(SampleFs.save(s, 2));
        assertEquals(s, d.state);
    }

    @Test
    void humanBytes() {
        assertEquals("0 B", StateSummary.humanBytes(0));
        assertEquals("1023 B", StateSummary.humanBytes(1023));
        assertEquals("1.0 KiB", StateSummary.humanBytes(1024));
        assertEquals("200.0 MiB", StateSummary.humanBytes(200L << 20));
    }
}
