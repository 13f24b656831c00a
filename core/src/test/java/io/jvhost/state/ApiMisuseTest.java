package io.jvhost.state;

import static io.jvhost.state.Blobs.fails;
import static io.jvhost.state.Blobs.read;
import static io.jvhost.state.Blobs.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.AbstractList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Programming errors in devices fail loudly with IllegalStateException/IllegalArgumentException. */
class ApiMisuseTest {

    static void assertMessage(Throwable t, String fragment) {
        assertTrue(t.getMessage().contains(fragment), () -> "'" + t.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void writerEnforcesStructure() {
        assertMessage(
                assertThrows(
                        IllegalStateException.class,
                        () -> write("dev", w -> w.section("a", 1, 1, out -> w.section("b", 1, 1, o -> {})))),
                "sections don't nest");
        assertMessage(
                assertThrows(
                        IllegalStateException.class,
                        () -> write(
                                "dev",
                                w -> w.section(
                                        "a",
                                        1,
                                        1,
                                        out -> out.subsection("s", 1, IfUnknown.SKIP, s -> {})
                                                .u8(1)))),
                "fields come first");
        assertMessage(
                assertThrows(
                        IllegalStateException.class,
                        () -> write(
                                "dev",
                                w -> w.section(
                                        "a", 1, 1, out -> out.subsection("s", 1, IfUnknown.SKIP, s -> out.u8(1))))),
                "a subsection of it is being written");
        AtomicReference<SectionOutput> leaked = new AtomicReference<>();
        assertMessage(
                assertThrows(
                        IllegalStateException.class,
                        () -> write("dev", w -> {
                            w.section("a", 1, 1, leaked::set);
                            leaked.get().u8(1);
                        })),
                "its body has returned");
        assertMessage(
                assertThrows(
                        IllegalStateException.class, () -> write("dev", w -> w.section("a", 1, 1, out -> w.finish()))),
                "finish() inside section 'a'");
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> write("dev", w -> {
                            w.section("a", 1, 1, out -> {});
                            w.section("a", 1, 1, out -> {});
                        })),
                "section 'a' written twice");
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> write(
                                "dev",
                                w -> w.section("a", 1, 1, out -> {
                                    out.subsection("s", 1, IfUnknown.SKIP, s -> {});
                                    out.subsection("s", 1, IfUnknown.SKIP, s -> {});
                                }))),
                "subsection 's' written twice in 'a'");
    }

    @Test
    void writerValidatesNamesVersionsAndValues() {
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> write("dev", w -> w.section("has space", 1, 1, out -> {}))),
                "[A-Za-z0-9._:-]");
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> write("dev", w -> w.section("a", 1, 2, out -> {}))),
                "need 1 <= oldest version <= version, got 2 and 1");
        assertThrows(IllegalArgumentException.class, () -> write("dev", w -> w.section("a", 0, 0, out -> {})));
        assertThrows(IllegalArgumentException.class, () -> write("x".repeat(128), w -> {}));
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> write("dev", w -> w.section("a", 1, 1, out -> out.u8(256)))),
                "u8 out of range: 256");
        assertThrows(IllegalArgumentException.class, () -> write("dev", w -> w.section("a", 1, 1, out -> out.u16(-1))));
        assertThrows(
                IllegalArgumentException.class,
                () -> write("dev", w -> w.section("a", 1, 1, out -> out.u32(1L << 32))));
        assertThrows(
                IllegalArgumentException.class, () -> write("dev", w -> w.section("a", 1, 1, out -> out.count(-1))));
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> write("dev", w -> w.section("a", 1, 1, out -> out.string("half a pair \ud83d")))),
                "unpaired surrogate");
    }

    @Test
    void aListWhoseSizeLiesIsRefused() {
        List<Integer> lying = new AbstractList<>() {
            @Override
            public Integer get(int index) {
                return index;
            }

            @Override
            public int size() {
                return 3;
            }

            @Override
            public java.util.Iterator<Integer> iterator() {
                return List.of(1, 2).iterator();
            }
        };
        assertMessage(
                assertThrows(
                        IllegalStateException.class,
                        () -> write("dev", w -> w.section("a", 1, 1, out -> out.list(lying, (o, i) -> o.varint(i))))),
                "size 3, iterated 2");
    }

    @Test
    void aFailedBodyLeavesAnUnloadableStateAndABrokenWriter() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(bos, "dev");
        w.section("a", 1, 1, out -> out.u8(1));
        assertThrows(
                UncheckedIOException.class,
                () -> w.section("b", 1, 1, out -> {
                    out.u8(2);
                    throw new UncheckedIOException(new IOException("inode table went away"));
                }));
        assertMessage(assertThrows(IllegalStateException.class, w::finish), "an earlier write failed");
        fails(StateReader.forDevice("dev").build(), bos.toByteArray(), "truncated");
    }

    @Test
    void subsectionIfWritesNothingWhenNotNeeded() throws IOException {
        byte[] without = write("dev", w -> w.section("a", 1, 1, out -> out.u8(1)));
        byte[] notNeeded = write(
                "dev",
                w -> w.section("a", 1, 1, out -> out.u8(1).subsectionIf(false, "s", 1, IfUnknown.FAIL, s -> s.u8(2))));
        assertArrayEquals(without, notNeeded);
    }

    @Test
    void loaderMisuse() throws IOException {
        byte[] blob = write(
                "dev", w -> w.section("a", 1, 1, out -> out.u8(1).subsection("s", 1, IfUnknown.FAIL, s -> s.u8(2))));

        assertMessage(
                assertThrows(
                        IllegalStateException.class,
                        () -> read(
                                StateReader.forDevice("dev")
                                        .section("a", 1, (v, in) -> null)
                                        .build(),
                                blob)),
                "returned null");

        assertMessage(
                assertThrows(
                        IllegalStateException.class,
                        () -> read(
                                StateReader.forDevice("dev")
                                        .section("a", 1, (v, in) -> {
                                            in.u8();
                                            in.onSubsection("s", 1, (sv, sub) -> in.u8());
                                            return "x";
                                        })
                                        .build(),
                                blob)),
                "can only be read inside its own loader");

        assertMessage(
                assertThrows(
                        IllegalStateException.class,
                        () -> read(
                                StateReader.forDevice("dev")
                                        .section("a", 1, (v, in) -> {
                                            in.u8();
                                            in.onSubsection("s", 1, (sv, sub) -> {
                                                sub.u8();
                                                in.onSubsection("late", 1, (lv, late) -> {});
                                            });
                                            return "x";
                                        })
                                        .build(),
                                blob)),
                "after the loader of 'a' returned");

        byte[] list = write("dev", w -> w.section("a", 1, 1, out -> out.count(5)));
        assertMessage(
                assertThrows(
                        IllegalStateException.class,
                        () -> read(
                                StateReader.forDevice("dev")
                                        .section("a", 1, (v, in) -> in.list(10, e -> "nothing read"))
                                        .build(),
                                list)),
                "list elements must occupy at least one byte");
    }

    @Test
    void registrationAndLookupMisuse() throws IOException {
        assertThrows(
                IllegalArgumentException.class,
                () -> StateReader.forDevice("dev")
                        .section("a", 1, (v, in) -> "x")
                        .optionalSection("a", 1, (v, in) -> "y"));
        assertThrows(
                IllegalArgumentException.class,
                () -> StateReader.forDevice("dev").section("a", 3, 2, (v, in) -> "x"));
        assertThrows(IllegalArgumentException.class, () -> StateReader.forDevice("no spaces"));

        byte[] blob = write("dev", w -> w.section("a", 1, 1, out -> out.u8(1)));
        LoadedState loaded = read(
                StateReader.forDevice("dev")
                        .section("a", 1, (v, in) -> in.u8())
                        .optionalSection("b", 1, (v, in) -> in.u8())
                        .build(),
                blob);
        assertEquals(1, loaded.get("a", Integer.class));
        assertMessage(
                assertThrows(ClassCastException.class, () -> loaded.get("a", String.class)),
                "loaded as java.lang.Integer, not java.lang.String");
        assertMessage(
                assertThrows(NoSuchElementException.class, () -> loaded.get("b", Integer.class)),
                "section 'b' was not in the state");
    }
}
