package io.jvhost.state;

import java.io.IOException;

/** Unsigned LEB128, canonical only: one encoding per value keeps blobs comparable byte for byte. */
final class Varint {
    static final int MAX_BYTES = 10;

    private Varint() {}

    /** Source of bytes for decoding, so fields (spanning DATA frames) and frame headers share one decoder. */
    interface ByteSource {
        int u8() throws IOException;

        StateFormatException fail(String message);
    }

    static long read(ByteSource in) throws IOException {
        long value = 0;
        for (int i = 0; i < MAX_BYTES; i++) {
            int b = in.u8();
            if (i == MAX_BYTES - 1 && b > 1) {
                throw in.fail("varint overflows 64 bits");
            }
            value |= (long) (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    throw in.fail("varint is not in its shortest form");
                }
                return value;
            }
        }
        throw in.fail("varint longer than " + MAX_BYTES + " bytes");
    }
}
