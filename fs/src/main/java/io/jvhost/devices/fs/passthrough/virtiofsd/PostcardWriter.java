package io.jvhost.devices.fs.passthrough.virtiofsd;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes postcard's primitives, the canonical forms {@link PostcardReader} accepts. */
final class PostcardWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PostcardWriter u64(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }

    PostcardWriter u32(long v) {
        return u64(v & 0xFFFF_FFFFL);
    }

    PostcardWriter i32(int v) {
        return u32(((long) v << 1) ^ (v >> 31));
    }

    PostcardWriter bool(boolean b) {
        out.write(b ? 1 : 0);
        return this;
    }

    PostcardWriter bytes(byte[] b) {
        u64(b.length);
        out.write(b, 0, b.length);
        return this;
    }

    PostcardWriter string(String s) {
        return bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}
