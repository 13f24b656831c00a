package io.jvhost.devices.fs.passthrough.virtiofsd;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads postcard's primitives (postcard 1.x wire format: LEB128 varints, zigzag for signed,
 * length-prefixed sequences) from a byte array, distrusting every one: a length or count is
 * checked against the bytes that remain before anything is allocated for it, so a blob can make
 * the reader allocate at most about its own size. Varints must be canonical (no padding bytes,
 * no bits past the type's width) so that what decodes re-encodes to the very same bytes.
 */
final class PostcardReader {
    private final byte[] in;
    private int pos;

    PostcardReader(byte[] in) {
        this.in = in;
    }

    int remaining() {
        return in.length - pos;
    }

    int position() {
        return pos;
    }

    VirtiofsdFormatException malformed(String why) {
        return new VirtiofsdFormatException(why + " (at byte " + pos + " of " + in.length + ")");
    }

    private long varint(String what, int maxBytes, int lastByteBits) throws VirtiofsdFormatException {
        long value = 0;
        int start = pos;
        for (int i = 0; i < maxBytes; i++) {
            if (pos >= in.length) throw malformed(what + ": truncated varint");
            int b = in[pos++] & 0xFF;
            if (i == maxBytes - 1 && (b >>> lastByteBits) != 0) {
                pos = start;
                throw malformed(what + ": varint too large for its type");
            }
            value |= (long) (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    pos = start;
                    throw malformed(what + ": non-canonical varint");
                }
                return value;
            }
        }
        throw malformed(what + ": varint too long"); // unreachable: the last byte's high bit is checked above
    }

    long u64(String what) throws VirtiofsdFormatException {
        return varint(what, 10, 1); // 9 * 7 = 63 bits, the 10th byte holds the last one
    }

    long u32(String what) throws VirtiofsdFormatException {
        return varint(what, 5, 4); // 4 * 7 = 28 bits, the 5th byte holds the last four
    }

    int i32(String what) throws VirtiofsdFormatException {
        long z = u32(what);
        return (int) ((z >>> 1) ^ -(z & 1));
    }

    boolean bool(String what) throws VirtiofsdFormatException {
        if (pos >= in.length) throw malformed(what + ": truncated");
        int b = in[pos] & 0xFF;
        if (b > 1) throw malformed(what + ": bool byte " + b);
        pos++;
        return b == 1;
    }

    /** serde's Option: 0 (None) or 1 (Some, the value follows). */
    boolean option(String what) throws VirtiofsdFormatException {
        if (pos >= in.length) throw malformed(what + ": truncated");
        int b = in[pos] & 0xFF;
        if (b > 1) throw malformed(what + ": Option tag " + b);
        pos++;
        return b == 1;
    }

    /** An enum's variant index, below {@code variants}. */
    int variant(String what, int variants) throws VirtiofsdFormatException {
        int start = pos;
        long v = u32(what);
        if (v >= variants) {
            pos = start;
            throw malformed(what + ": unknown variant " + v + " (there are " + variants + ")");
        }
        return (int) v;
    }

    /**
     * A sequence's length, for elements of at least {@code minElementBytes} each: longer than
     * the rest of the blob could hold is refused before a list of that size exists.
     */
    int count(String what, int minElementBytes) throws VirtiofsdFormatException {
        int start = pos;
        long n = u64(what + " length");
        if (n > remaining() / minElementBytes) {
            pos = start;
            throw malformed(what + ": " + Long.toUnsignedString(n) + " elements, only " + remaining() + " bytes left");
        }
        return (int) n;
    }

    byte[] bytes(String what) throws VirtiofsdFormatException {
        int n = count(what, 1);
        byte[] b = new byte[n];
        System.arraycopy(in, pos, b, 0, n);
        pos += n;
        return b;
    }

    /** serde's String: must be UTF-8 (serde refuses anything else). */
    String string(String what) throws VirtiofsdFormatException {
        int start = pos;
        byte[] b = bytes(what);
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b))
                    .toString();
        } catch (CharacterCodingException e) {
            pos = start;
            throw malformed(what + ": not UTF-8");
        }
    }
}
