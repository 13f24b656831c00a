package io.jvhost.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * Pins the byte layout: the example in docs/state-format.md, byte for byte. If this test has to
 * change, the format changed, and old readers will reject or misread new blobs.
 */
class WireFormatTest {
    static final String EXPECTED =
            "4a564853544154450100" + "0464656d6f" // magic "JVHSTATE", format 1, device type "demo"
                    + "530363666702" + "0100" // 'S' "cfg" version 2, min 1, flags 0 (fail if unknown)
                    + "4403000000" + "07ac02" //   'D' 3 bytes: u8 7, varint 300
                    + "7301780101" + "01" //   's' "x" version 1, min 1, flags 1 (skip if unknown)
                    + "440100000001" //     'D' 1 byte: bool true
                    + "4506" //   'E' body length 6
                    + "4516" // 'E' body length 22
                    + "5a" + "2f00000000000000" // 'Z', 47 bytes before it
                    + "f3bd77c9"; // CRC32C of bytes 0..55, little-endian

    @Test
    void exampleBlobIsExactlyAsDocumented() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(bos, "demo");
        w.section("cfg", 2, 1, out -> out.u8(7).varint(300).subsection("x", 1, IfUnknown.SKIP, s -> s.bool(true)));
        StateSummary summary = w.finish();
        byte[] blob = bos.toByteArray();

        CRC32C crc = new CRC32C();
        crc.update(blob, 0, blob.length - 4);
        assertEquals(
                String.format("%08x", Integer.reverseBytes((int) crc.getValue())),
                HexFormat.of().formatHex(blob, blob.length - 4, blob.length));
        assertEquals(EXPECTED, HexFormat.of().formatHex(blob));

        assertEquals(60, summary.totalBytes());
        assertEquals(32, summary.sections().get(0).bytes());
        assertEquals(14, summary.sections().get(0).subsections().get(0).bytes());
        assertEquals("""
                demo state, format 1: 60 B, 1 section
                  cfg v2 (min 1): 32 B
                    x v1 [skippable]: 14 B""", StateReader.describe(new ByteArrayInputStream(blob)).render());
    }
}
