package io.jvhost.state;

import static io.jvhost.state.Blobs.fails;
import static io.jvhost.state.HostileInputTest.failsCheaply;
import static io.jvhost.state.HostileInputTest.readerOf;
import static io.jvhost.state.HostileInputTest.sectionWithFields;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvhost.state.RawBlob.Fields;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link SectionInput#bytes(byte[])}: byte strings read into the caller's buffer, as strictly as {@code bytes()}. */
class BytesIntoBufferTest {
    /** Blocks of every size around the writer's 64 KiB DATA frames, so strings start and end at every kind of offset. */
    private static final int[] SIZES = {0, 1, 7, 65_535, 65_536, 65_537, 100_000, 3, 131_072, 200_001};

    @Test
    void blocksOfEverySizeRoundTripThroughOneBuffer() throws IOException {
        SplittableRandom random = new SplittableRandom(11);
        List<byte[]> blocks = new ArrayList<>();
        for (int n : SIZES) {
            byte[] b = new byte[n];
            random.nextBytes(b);
            blocks.add(b);
        }
        byte[] blob = Blobs.write(
                "dev",
                w -> w.section("a", 1, 1, o -> {
                    for (byte[] b : blocks) o.bytes(b);
                    o.u32(0xC0FFEEL);
                }));
        byte[] buffer = new byte[200_001];
        List<byte[]> read = new ArrayList<>();
        LoadedState loaded = Blobs.read(
                StateReader.forDevice("dev")
                        .section("a", 1, (v, in) -> {
                            for (int i = 0; i < SIZES.length; i++) {
                                int n = in.bytes(buffer);
                                read.add(Arrays.copyOf(buffer, n));
                            }
                            return in.u32();
                        })
                        .build(),
                blob);
        assertEquals(0xC0FFEEL, loaded.get("a", Long.class));
        for (int i = 0; i < SIZES.length; i++) assertArrayEquals(blocks.get(i), read.get(i), "block " + i);
    }

    @Test
    void aStringLongerThanTheBufferIsRefusedBeforeAnyByteIsRead() {
        failsCheaply(
                readerOf((v, in) -> in.bytes(new byte[16])),
                sectionWithFields(new Fields().varint(17).raw(new byte[17])),
                "byte string of 17 bytes exceeds the limit of 16");
        failsCheaply(
                readerOf((v, in) -> in.bytes(new byte[16])),
                sectionWithFields(new Fields().varint(1L << 40)),
                "byte string of 1099511627776 bytes exceeds the limit of 16");
    }

    @Test
    void aStringLongerThanItsFieldsFailsAsTruncatedFields() {
        fails(
                readerOf((v, in) -> in.bytes(new byte[1000])),
                sectionWithFields(new Fields().varint(500).raw(new byte[100])),
                "more bytes of fields than were written");
    }
}
