package io.jvhost.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Elements encoded ahead ({@link StateWriter#encoder}) and copied in ({@link SectionOutput#encoded})
 * make the very bytes that writing their fields in the save makes, mixed with fields written
 * there, and read back as such; an element too large to encode ahead is refused.
 */
class EncodedAheadTest {
    private record Item(long id, String name, long big) {}

    private static final ElementWriter<Item> FIELDS =
            (o, i) -> o.varint(i.id()).string(i.name()).u64(i.big()).bool(i.id() % 2 == 0);

    private static byte[] blob(List<Item> items, boolean ahead) throws Exception {
        StateWriter.ElementEncoder enc = StateWriter.encoder("items", 1);
        List<byte[]> bytes = new ArrayList<>();
        for (Item i : items) bytes.add(enc.encode(FIELDS, i));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "dev");
        w.section("items", 1, 1, o -> {
            o.count(items.size());
            for (int k = 0; k < items.size(); k++) {
                if (ahead && k % 3 != 0) o.encoded(bytes.get(k));
                else FIELDS.write(o, items.get(k));
            }
        });
        w.finish();
        return out.toByteArray();
    }

    @Test
    void encodedAheadIsWhatTheFieldsWriteAndReadsBack() throws Exception {
        List<Item> items = new ArrayList<>();
        for (int k = 0; k < 5000; k++) items.add(new Item(k * 977L, "name-" + k, -k * 1234567891L));
        byte[] ahead = blob(items, true);
        assertArrayEquals(blob(items, false), ahead);
        LoadedState st = StateReader.forDevice("dev")
                .section(
                        "items",
                        1,
                        (v, in) -> in.list(10_000, r -> {
                            Item i = new Item(r.varint(), r.string(64), r.u64());
                            r.bool();
                            return i;
                        }))
                .build()
                .readAll(new ByteArrayInputStream(ahead));
        List<?> back = st.get("items", List.class);
        assertEquals(items, back);
    }

    @Test
    void anElementLargerThanOneFrameIsRefused() {
        StateWriter.ElementEncoder enc = StateWriter.encoder("items", 1);
        ElementWriter<byte[]> big = (o, b) -> o.bytes(b);
        assertThrows(IllegalArgumentException.class, () -> enc.encode(big, new byte[70_000]));
    }
}
