package io.jvhost.state;

import static io.jvhost.state.Blobs.fails;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.state.RawBlob.Fields;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Forged lengths, counts, nesting and encodings fail fast, with bounded allocation. */
class HostileInputTest {
    static final long MAX_ALLOCATION = 2L << 20;

    static StateReader readerOf(SectionLoader<?> loader) {
        return StateReader.forDevice("dev").section("a", 1, loader).build();
    }

    static byte[] sectionWithFields(Fields fields) {
        return RawBlob.header("dev")
                .section("a", 1, 1, false)
                .data(fields)
                .end()
                .finish();
    }

    /** Fails as expected, quickly, allocating at most a couple of MiB on this thread. */
    static void failsCheaply(StateReader reader, byte[] blob, String fragment) {
        failsCheaply(reader, blob, fragment, MAX_ALLOCATION);
    }

    static void failsCheaply(StateReader reader, byte[] blob, String fragment, long maxAllocation) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            fails(reader, blob, fragment); // warm-up: class loading and linking allocate too
            long before = threads.getCurrentThreadAllocatedBytes();
            fails(reader, blob, fragment);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < maxAllocation, "allocated " + allocated + " bytes");
        });
    }

    @Test
    void countOf2To31IsRefusedBeforeAnyElement() {
        byte[] blob = sectionWithFields(new Fields().varint(1L << 31).u8(1));
        failsCheaply(
                readerOf((v, in) -> in.list(Integer.MAX_VALUE, SectionInput::u8)),
                blob,
                "count 2147483648 exceeds the limit of 2147483647");
        failsCheaply(
                readerOf((v, in) -> in.count(1000)),
                sectionWithFields(new Fields().varint(1001)),
                "count 1001 exceeds the limit of 1000");
    }

    @Test
    void hugeCountWithinTheLimitRunsOutOfDataWithoutAllocatingForIt() {
        byte[] blob = sectionWithFields(
                new Fields().varint(Integer.MAX_VALUE).le(1, 8).le(2, 8).le(3, 8));
        failsCheaply(
                readerOf((v, in) -> in.list(Integer.MAX_VALUE, SectionInput::u64)),
                blob,
                "more bytes of fields than were written");
    }

    @Test
    void hugeByteAndStringLengthsRunOutOfDataWithoutAllocatingForThem() {
        byte[] blob =
                sectionWithFields(new Fields().varint(Integer.MAX_VALUE - 8).raw(new byte[100]));
        failsCheaply(readerOf((v, in) -> in.bytes()), blob, "more bytes of fields than were written");
        failsCheaply(readerOf((v, in) -> in.string()), blob, "more bytes of fields than were written");
        failsCheaply(
                readerOf((v, in) -> in.bytes(4096)), blob, "byte string of 2147483639 bytes exceeds the limit of 4096");
        failsCheaply(
                readerOf((v, in) -> in.bytes()),
                sectionWithFields(new Fields().varint(1L << 40)),
                "byte string of 1099511627776 bytes exceeds the limit");
        failsCheaply(
                readerOf((v, in) -> in.bytes()),
                sectionWithFields(new Fields().varint(-1L)),
                "byte string of 18446744073709551615 bytes exceeds the limit");
    }

    @Test
    void aByteStringLongerThanOneFrameStillNeedsAllItsBytes() {
        RawBlob b = RawBlob.header("dev")
                .section("a", 1, 1, false)
                .data(new Fields()
                        .varint(3_000_000)
                        .raw(new byte[Wire.MAX_DATA_FRAME - 4])
                        .toByteArray())
                .data(new byte[Wire.MAX_DATA_FRAME]);
        byte[] blob = b.end().finish();
        // Buffers grow with the bytes actually present (2 MiB here), so the bound scales with the blob.
        failsCheaply(readerOf((v, in) -> in.bytes()), blob, "more bytes of fields than were written", 3L * blob.length);
    }

    @Test
    void dataFrameLengthsAreBounded() {
        StateReader r = readerOf((v, in) -> in.u8());
        byte[] huge = RawBlob.header("dev")
                .section("a", 1, 1, false)
                .u8('D')
                .le(0xFFFF_FFFFL, 4)
                .u8(1)
                .unfinished();
        failsCheaply(r, huge, "data frame length 4294967295 outside 1..1048576");
        byte[] empty = RawBlob.header("dev")
                .section("a", 1, 1, false)
                .u8('D')
                .le(0, 4)
                .end()
                .finish();
        failsCheaply(r, empty, "data frame length 0 outside");
        byte[] skipped = RawBlob.header("dev")
                .section("b", 1, 1, true)
                .u8('D')
                .le(Wire.MAX_DATA_FRAME + 1L, 4)
                .unfinished();
        failsCheaply(StateReader.forDevice("dev").build(), skipped, "data frame length 1048577 outside");
    }

    @Test
    void nestingIsBounded() {
        RawBlob b = RawBlob.header("dev").section("a", 1, 1, true);
        for (int i = 0; i < 40; i++) {
            b.subsection("n" + i, 1, 1, true);
        }
        failsCheaply(StateReader.forDevice("dev").build(), b.unfinished(), "nests deeper than 32 levels");
    }

    @Test
    void numberOfScopesIsBounded() {
        RawBlob b = RawBlob.header("dev").section("a", 1, 1, true);
        for (int i = 0; i < Wire.MAX_SCOPES; i++) {
            b.subsection("s" + i, 1, 1, true).end();
        }
        assertTimeoutPreemptively(
                Duration.ofSeconds(10),
                () -> fails(StateReader.forDevice("dev").build(), b.end().finish(), "more than 65536 sections"));
    }

    @Test
    void anInvalidStringKeepsTheDecodersErrorAsItsCause() {
        StateFormatException e = fails(
                readerOf((v, in) -> in.string()),
                sectionWithFields(new Fields().varint(1).raw((byte) 0x80)),
                "string is not valid UTF-8");
        assertInstanceOf(java.nio.charset.CharacterCodingException.class, e.getCause());
    }

    @Test
    void malformedFieldEncodings() {
        failsCheaply(
                readerOf((v, in) -> in.varint()),
                sectionWithFields(new Fields().raw((byte) 0x80, (byte) 0)),
                "varint is not in its shortest form");
        failsCheaply(
                readerOf((v, in) -> in.varint()),
                sectionWithFields(new Fields()
                        .raw(
                                (byte) 0xFF,
                                (byte) 0xFF,
                                (byte) 0xFF,
                                (byte) 0xFF,
                                (byte) 0xFF,
                                (byte) 0xFF,
                                (byte) 0xFF,
                                (byte) 0xFF,
                                (byte) 0xFF,
                                (byte) 0x02)),
                "varint overflows 64 bits");
        failsCheaply(readerOf((v, in) -> in.bool()), sectionWithFields(new Fields().u8(2)), "bool field is 2");
        // Overlong '/', an encoded surrogate, a lone continuation byte.
        for (byte[] bad :
                new byte[][] {{(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0x80}}) {
            failsCheaply(
                    readerOf((v, in) -> in.string()),
                    sectionWithFields(new Fields().varint(bad.length).raw(bad)),
                    "string is not valid UTF-8");
        }
    }

    @Test
    void malformedScopeHeaders() {
        StateReader r = StateReader.forDevice("dev").build();
        failsCheaply(r, RawBlob.header("dev").section("a b", 1, 1, true).end().finish(), "name has characters outside");
        failsCheaply(
                r,
                RawBlob.header("dev").section("\u00e9t\u00e9", 1, 1, true).end().finish(),
                "name has characters outside");
        failsCheaply(r, RawBlob.header("dev").u8('S').u8(0).unfinished(), "section name length 0 outside");
        failsCheaply(r, RawBlob.header("dev").u8('S').u8(200).unfinished(), "section name length 200 outside");
        failsCheaply(r, RawBlob.header("dev").section("a", 0, 1, true).end().finish(), "'a' has version 0 outside");
        failsCheaply(
                r,
                RawBlob.header("dev").scope('S', "a", 1L << 40, 1, true).end().finish(),
                "'a' has version 1099511627776 outside");
        failsCheaply(
                r,
                RawBlob.header("dev").section("a", 2, 3, true).end().finish(),
                "'a' has minimum version 3 above its version 2");
        failsCheaply(
                r,
                RawBlob.header("dev")
                        .u8('S')
                        .name("a")
                        .varint(1)
                        .varint(1)
                        .u8(0x81)
                        .unfinished(),
                "'a' has unknown flag bits 0x81");
        failsCheaply(r, RawBlob.header("bad type").finish(), "device type name has characters outside");
    }

    @Test
    void malformedFraming() {
        StateReader r = StateReader.forDevice("dev").build();
        failsCheaply(
                r,
                RawBlob.header("dev").section("a", 1, 1, true).u8(0).unfinished(),
                "'a' is not closed: found an unknown frame tag 0x0");
        failsCheaply(
                readerOf((v, in) -> "x"),
                RawBlob.header("dev").section("a", 1, 1, false).finish(),
                "not closed: found the end-of-state marker");
        failsCheaply(
                r,
                RawBlob.header("dev")
                        .section("a", 1, 1, true)
                        .u8('E')
                        .varint(-1L)
                        .finish(),
                "records a body of 18446744073709551615 bytes but has 0");
        failsCheaply(
                r,
                RawBlob.header("dev").section("a", 1, 1, true).u8('S').unfinished(),
                "'a' is not closed: found a section");
        failsCheaply(r, RawBlob.header("dev").u8('E').varint(0).finish(), "found an end of section where a section");
    }
}
