package io.jvhost.state;

import static io.jvhost.state.Blobs.fails;
import static io.jvhost.state.Blobs.read;
import static io.jvhost.state.Blobs.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Old readers against new writers and vice versa, and every version and presence rule. */
class CompatibilityTest {
    static final SampleFs.State BEFORE = SampleFs.sample(new Random(99), 3, false, false);

    static SampleFs.State asGeneration1(SampleFs.State s) {
        return new SampleFs.State(
                s.nextInode(), s.nextHandle(), s.inodes(), s.handles(), s.options(), 0, List.of(), Map.of());
    }

    @Test
    void oldReaderLoadsNewWriterWhenNewFeaturesAreNotInUse() throws IOException {
        SampleFs.State s = SampleFs.sample(new Random(3), 50, false, false);
        SampleFs.Device old = new SampleFs.Device(1, BEFORE);
        LoadedState loaded = old.load(SampleFs.save(s, 2));
        // inodes v2 (min 1) is loaded as v1: its appended field is ignored, the rest is intact.
        assertEquals(asGeneration1(s), old.state);
        assertTrue(loaded.skipped().isEmpty());
    }

    @Test
    void oldReaderSkipsUnknownSkippableSubsection() throws IOException {
        SampleFs.State s = SampleFs.sample(new Random(4), 50, false, true);
        SampleFs.Device old = new SampleFs.Device(1, BEFORE);
        LoadedState loaded = old.load(SampleFs.save(s, 2));
        assertEquals(asGeneration1(s), old.state);
        assertEquals(List.of("inodes/lookup-stats v1"), loaded.skipped());
        assertEquals(
                "lookup-stats",
                loaded.summary().sections().get(0).subsections().get(0).name());
    }

    @Test
    void oldReaderRefusesUnknownRequiredSubsection() throws IOException {
        SampleFs.State s = SampleFs.sample(new Random(5), 50, true, true);
        SampleFs.Device old = new SampleFs.Device(1, BEFORE);
        StateFormatException e = assertThrows(StateFormatException.class, () -> old.load(SampleFs.save(s, 2)));
        assertTrue(e.getMessage().contains("unknown subsection 'posix-locks' v1 is marked required"), e.getMessage());
        assertTrue(e.getMessage().contains("subsection") && e.getMessage().contains("inodes"), e.getMessage());
        assertSame(BEFORE, old.state);
    }

    @Test
    void newReaderLoadsOldWriter() throws IOException {
        SampleFs.State s = SampleFs.sample(new Random(6), 50, false, false);
        SampleFs.Device fresh = new SampleFs.Device(2, BEFORE);
        fresh.load(SampleFs.save(s, 1));
        assertEquals(asGeneration1(s), fresh.state);
    }

    @Test
    void sectionNewerThanReaderAndIncompatibleFails() throws IOException {
        byte[] blob = write("dev", w -> w.section("fuse", 2, 2, out -> out.u32(1)));
        StateReader r = StateReader.forDevice("dev")
                .section("fuse", 1, (v, in) -> in.u32())
                .build();
        fails(
                r,
                blob,
                "section 'fuse'",
                "'fuse' is version 2 and needs a reader of version 2 or newer; " + "this reader loads version 1");
    }

    @Test
    void sectionOlderThanReaderSupportsFails() throws IOException {
        byte[] blob = write("dev", w -> w.section("fuse", 1, 1, out -> out.u32(1)));
        StateReader r = StateReader.forDevice("dev")
                .section("fuse", 2, 3, (v, in) -> in.u32())
                .build();
        fails(r, blob, "'fuse' is version 1, older than this reader loads (versions 2..3)");
    }

    @Test
    void newerCompatibleSectionLoadsAsReadersVersionIgnoringAppendedFields() throws IOException {
        byte[] blob = write(
                "dev", w -> w.section("fuse", 3, 1, out -> out.u32(7).u64(8).string("added in v3")));
        int[] seen = new int[2];
        StateReader r = StateReader.forDevice("dev")
                .section("fuse", 1, (v, in) -> {
                    seen[0] = v;
                    seen[1] = in.writtenVersion();
                    return in.u32();
                })
                .build();
        assertEquals(7L, read(r, blob).get("fuse", Long.class));
        assertEquals(1, seen[0]);
        assertEquals(3, seen[1]);
    }

    @Test
    void unreadFieldsOfAKnownVersionFail() throws IOException {
        byte[] blob =
                write("dev", w -> w.section("fuse", 1, 1, out -> out.u32(7).u32(8)));
        StateReader r = StateReader.forDevice("dev")
                .section("fuse", 1, (v, in) -> in.u32())
                .build();
        fails(r, blob, "left 4 bytes of fields unread");
    }

    @Test
    void readingPastTheFieldsFails() throws IOException {
        byte[] blob = write("dev", w -> w.section("fuse", 1, 1, out -> out.u32(7)));
        StateReader r = StateReader.forDevice("dev")
                .section("fuse", 1, (v, in) -> in.u64())
                .build();
        fails(r, blob, "section 'fuse'", "reads 4 more bytes of fields than were written");
    }

    @Test
    void unknownSections() throws IOException {
        byte[] required = write("dev", w -> w.section("new-thing", 1, 1, out -> out.u8(1)));
        byte[] skippable = write("dev", w -> w.section("new-thing", 1, 1, IfUnknown.SKIP, out -> out.u8(1)));
        StateReader r = StateReader.forDevice("dev").build();
        fails(r, required, "section 'new-thing'", "unknown section v1 is marked required");
        assertEquals(List.of("new-thing v1"), read(r, skippable).skipped());
    }

    @Test
    void missingAndOptionalSections() throws IOException {
        byte[] onlyA = write("dev", w -> w.section("a", 1, 1, out -> out.u8(1)));
        fails(
                StateReader.forDevice("dev")
                        .section("a", 1, (v, in) -> in.u8())
                        .section("b", 1, (v, in) -> in.u8())
                        .build(),
                onlyA,
                "required section 'b' is missing");

        StateReader optionalB = StateReader.forDevice("dev")
                .section("a", 1, (v, in) -> in.u8())
                .optionalSection("b", 1, (v, in) -> in.u8())
                .build();
        LoadedState loaded = read(optionalB, onlyA);
        assertEquals(Optional.empty(), loaded.find("b", Integer.class));
        assertFalse(loaded.has("b"));
        assertEquals(1, loaded.get("a", Integer.class));

        byte[] both = write("dev", w -> {
            w.section("a", 1, 1, out -> out.u8(1));
            w.section("b", 1, 1, out -> out.u8(2));
        });
        assertEquals(Optional.of(2), read(optionalB, both).find("b", Integer.class));
    }

    @Test
    void duplicateSectionsAndSubsectionsFail() {
        byte[] dupSection = RawBlob.header("dev")
                .section("a", 1, 1, false)
                .end()
                .section("a", 1, 1, false)
                .end()
                .finish();
        fails(
                StateReader.forDevice("dev").section("a", 1, (v, in) -> "x").build(),
                dupSection,
                "section 'a' appears twice");

        byte[] dupSub = RawBlob.header("dev")
                .section("a", 1, 1, false)
                .subsection("s", 1, 1, true)
                .end()
                .subsection("s", 1, 1, true)
                .end()
                .end()
                .finish();
        fails(
                StateReader.forDevice("dev").section("a", 1, (v, in) -> "x").build(),
                dupSub,
                "subsection 's' appears twice");
        fails(
                StateReader.forDevice("dev")
                        .section("a", 1, (v, in) -> {
                            in.onSubsection("s", 1, (sv, sub) -> {});
                            return "x";
                        })
                        .build(),
                dupSub,
                "subsection 's' appears twice");
    }

    @Test
    void headerChecks() throws IOException {
        byte[] blob = write("virtio-net", w -> {});
        fails(SampleFs.reader(2), blob, "state of device type 'virtio-net'; this reader loads 'virtio-fs'");

        byte[] badMagic = blob.clone();
        badMagic[0] = 'X';
        fails(SampleFs.reader(2), badMagic, "offset 0", "not a jvhost device state (bad magic)");

        byte[] format2 = RawBlob.header("virtio-fs").unfinished();
        format2[8] = 2;
        fails(SampleFs.reader(2), format2, "offset 8", "unsupported state format version 2; this reader supports 1");
    }

    @Test
    void subsectionVersionRules() throws IOException {
        StateReader r = StateReader.forDevice("dev")
                .section("a", 1, (v, in) -> {
                    in.onSubsection("feature", 1, (sv, sub) -> {
                        assertEquals(1, sv);
                        sub.u8();
                    });
                    return "ok";
                })
                .build();
        byte[] incompatible = write(
                "dev",
                w -> w.section(
                        "a",
                        1,
                        1,
                        out -> out.subsection(
                                "feature", 2, 2, IfUnknown.FAIL, s -> s.u8(1).u8(2))));
        fails(r, incompatible, "subsection 'a/feature'", "'feature' is version 2 and needs a reader of version 2");

        byte[] compatible = write(
                "dev",
                w -> w.section(
                        "a",
                        1,
                        1,
                        out -> out.subsection(
                                "feature", 2, 1, IfUnknown.FAIL, s -> s.u8(1).u8(2))));
        assertEquals("ok", read(r, compatible).get("a", String.class));
    }

    @Test
    void fieldsAfterASubsectionAreRejected() {
        byte[] blob = RawBlob.header("dev")
                .section("a", 1, 1, false)
                .subsection("s", 1, 1, true)
                .end()
                .data(new byte[] {1})
                .end()
                .finish();
        fails(
                StateReader.forDevice("dev").section("a", 1, (v, in) -> "x").build(),
                blob,
                "field data after a subsection");
        fails(
                StateReader.forDevice("dev")
                        .section("a", 1, (v, in) -> {
                            in.onSubsection("s", 1, (sv, sub) -> {});
                            return "x";
                        })
                        .build(),
                blob,
                "field data after a subsection");
        fails(
                StateReader.forDevice("dev").build(),
                RawBlob.header("dev")
                        .section("a", 1, 1, true)
                        .subsection("s", 1, 1, true)
                        .end()
                        .data(new byte[] {1})
                        .end()
                        .finish(),
                "field data after a subsection");
    }

    @Test
    void endFrameLengthIsCrossChecked() {
        byte[] blob = RawBlob.header("dev")
                .section("a", 1, 1, false)
                .data(new byte[] {1})
                .endWithLength(5)
                .finish();
        fails(
                StateReader.forDevice("dev").section("a", 1, (v, in) -> in.u8()).build(),
                blob,
                "'a' records a body of 5 bytes but has 6");
    }

    @Test
    void aLoaderSwallowingAFormatErrorDoesNotMakeTheBlobLoad() throws IOException {
        byte[] blob = write("dev", w -> w.section("a", 1, 1, out -> out.u8(7)));
        StateReader r = StateReader.forDevice("dev")
                .section("a", 1, (v, in) -> {
                    int x = in.u8();
                    try {
                        in.u8();
                    } catch (StateFormatException ignored) {
                        // a sloppy loader pretending the field was optional
                    }
                    return x;
                })
                .build();
        fails(r, blob, "reads 1 more byte of fields than were written");
    }
}
