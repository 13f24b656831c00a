package io.jvhost.state;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** Test helpers: build a blob with StateWriter, assert a load fails with a given message. */
final class Blobs {
    private Blobs() {}

    interface Sections {
        void write(StateWriter w) throws IOException;
    }

    static byte[] write(String deviceType, Sections sections) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(bos, deviceType);
        sections.write(w);
        w.finish();
        return bos.toByteArray();
    }

    static LoadedState read(StateReader reader, byte[] blob) throws IOException {
        return reader.readAll(new ByteArrayInputStream(blob));
    }

    /** Asserts the load fails with a StateFormatException whose message contains every fragment. */
    static StateFormatException fails(StateReader reader, byte[] blob, String... fragments) {
        StateFormatException e = assertThrows(StateFormatException.class, () -> read(reader, blob));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        return e;
    }
}
