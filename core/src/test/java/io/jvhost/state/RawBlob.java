package io.jvhost.state;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.zip.CRC32C;

/** Assembles blobs frame by frame, bypassing StateWriter's checks, to feed the reader malformed input. */
final class RawBlob {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Deque<Integer> bodyStarts = new ArrayDeque<>();

    static RawBlob header(String deviceType) {
        return new RawBlob()
                .raw("JVHSTATE".getBytes(StandardCharsets.US_ASCII))
                .le(1, 2)
                .name(deviceType);
    }

    RawBlob section(String name, int version, int minVersion, boolean skippable) {
        return scope('S', name, version, minVersion, skippable);
    }

    RawBlob subsection(String name, int version, int minVersion, boolean skippable) {
        return scope('s', name, version, minVersion, skippable);
    }

    RawBlob scope(int tag, String name, long version, long minVersion, boolean skippable) {
        u8(tag).name(name).varint(version).varint(minVersion).u8(skippable ? 1 : 0);
        bodyStarts.push(out.size());
        return this;
    }

    RawBlob data(Fields fields) {
        return data(fields.toByteArray());
    }

    RawBlob data(byte[] payload) {
        return u8('D').le(payload.length, 4).raw(payload);
    }

    /** END frame with the correct body length. */
    RawBlob end() {
        int bodyStart = bodyStarts.pop();
        int endTag = out.size();
        return u8('E').varint(endTag - bodyStart);
    }

    RawBlob endWithLength(long recorded) {
        bodyStarts.pop();
        return u8('E').varint(recorded);
    }

    /** End-of-state marker with the correct length and CRC32C. */
    byte[] finish() {
        long endOffset = out.size();
        u8('Z').le(endOffset, 8);
        CRC32C crc = new CRC32C();
        byte[] soFar = out.toByteArray();
        crc.update(soFar);
        le(crc.getValue(), 4);
        return out.toByteArray();
    }

    byte[] unfinished() {
        return out.toByteArray();
    }

    RawBlob name(String name) {
        byte[] b = name.getBytes(StandardCharsets.ISO_8859_1);
        return u8(b.length).raw(b);
    }

    RawBlob u8(int v) {
        out.write(v);
        return this;
    }

    RawBlob le(long v, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    RawBlob varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }

    RawBlob raw(byte... b) {
        out.writeBytes(b);
        return this;
    }

    /** Field payload bytes, encoded as SectionOutput would. */
    static final class Fields {
        private final RawBlob b = new RawBlob();

        Fields u8(int v) {
            b.u8(v);
            return this;
        }

        Fields le(long v, int bytes) {
            b.le(v, bytes);
            return this;
        }

        Fields varint(long v) {
            b.varint(v);
            return this;
        }

        Fields raw(byte... bytes) {
            b.raw(bytes);
            return this;
        }

        byte[] toByteArray() {
            return b.out.toByteArray();
        }
    }
}
