package io.jvhost.migration;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Bytes of the main channel. The preamble ({@code JVHMIGR1}, be32 stream version, be32 role,
 * 16-byte session id) opens every connection; then main-channel messages are framed as be32 type,
 * be32 body length (at most 64 KiB), body. Everything is big-endian, like the packet headers.
 */
final class ControlCodec {
    static final int HELLO = 1;
    static final int ACCEPT = 2;
    static final int END = 3;
    static final int OK = 4;
    static final int ABORT = 5;

    private ControlCodec() {}

    record Preamble(int role, SessionId session) {}

    static void writePreamble(OutputStream out, int role, SessionId session) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        d.write(StreamFormat.MAGIC);
        d.writeInt(StreamFormat.STREAM_VERSION);
        d.writeInt(role);
        d.writeLong(session.high());
        d.writeLong(session.low());
        d.flush();
    }

    static Preamble readPreamble(DataInputStream in) throws IOException {
        byte[] magic = new byte[StreamFormat.MAGIC.length];
        readFully(in, magic, "the connection preamble");
        if (!Arrays.equals(magic, StreamFormat.MAGIC)) {
            throw new MigrationException("not a jvhost migration stream (bad magic)");
        }
        int version = in.readInt();
        if (version != StreamFormat.STREAM_VERSION) {
            throw new MigrationException("stream version " + version + " is not supported (this side speaks "
                    + StreamFormat.STREAM_VERSION + ")");
        }
        int role = in.readInt();
        if (role != StreamFormat.ROLE_MAIN && role != StreamFormat.ROLE_STATE) {
            throw new MigrationException("unknown connection role " + role);
        }
        return new Preamble(role, new SessionId(in.readLong(), in.readLong()));
    }

    static void write(DataOutputStream out, ControlMessage m) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream b = new DataOutputStream(body);
        int type = switch (m) {
            case ControlMessage.Hello h -> {
                byte[] type1 = h.deviceType().getBytes(StandardCharsets.US_ASCII);
                b.writeShort(type1.length);
                b.write(type1);
                b.writeLong(h.virtioFeatures());
                b.writeInt(h.channels());
                b.writeInt(h.packetSize());
                b.writeLong(h.stateSize());
                yield HELLO;
            }
            case ControlMessage.Accept a -> ACCEPT;
            case ControlMessage.End e -> {
                b.writeLong(e.totalBytes());
                b.writeLong(e.packets());
                b.writeInt(e.crc32c());
                yield END;
            }
            case ControlMessage.Ok o -> OK;
            case ControlMessage.Abort a -> {
                b.write(truncateUtf8(a.reason(), StreamFormat.MAX_REASON_BYTES));
                yield ABORT;
            }
        };
        out.writeInt(type);
        out.writeInt(body.size());
        body.writeTo(out);
        out.flush();
    }

    static ControlMessage read(DataInputStream in) throws IOException {
        int type = in.readInt();
        int length = in.readInt();
        if (length < 0 || length > StreamFormat.MAX_CONTROL_BODY) {
            throw new MigrationException("control message of " + Integer.toUnsignedString(length) + " bytes exceeds "
                    + StreamFormat.MAX_CONTROL_BODY);
        }
        byte[] body = new byte[length];
        readFully(in, body, "a control message");
        ByteBuffer b = ByteBuffer.wrap(body);
        try {
            ControlMessage m = switch (type) {
                case HELLO -> {
                    int n = Short.toUnsignedInt(b.getShort());
                    if (n == 0 || n > StreamFormat.MAX_DEVICE_TYPE) {
                        throw new MigrationException("device type of " + n + " bytes");
                    }
                    byte[] name = new byte[n];
                    b.get(name);
                    String deviceType = new String(name, StandardCharsets.US_ASCII);
                    if (!deviceType.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
                        throw new MigrationException("device type is not printable ASCII");
                    }
                    yield new ControlMessage.Hello(deviceType, b.getLong(), b.getInt(), b.getInt(), b.getLong());
                }
                case ACCEPT -> new ControlMessage.Accept();
                case END -> new ControlMessage.End(b.getLong(), b.getLong(), b.getInt());
                case OK -> new ControlMessage.Ok();
                case ABORT -> {
                    b.position(b.limit());
                    yield new ControlMessage.Abort(decodeUtf8(body));
                }
                default -> throw new MigrationException("unknown control message type " + type);
            };
            if (b.hasRemaining()) {
                throw new MigrationException(
                        "control message type " + type + " has " + b.remaining() + " trailing bytes");
            }
            return m;
        } catch (java.nio.BufferUnderflowException e) {
            throw new MigrationException("control message type " + type + " is truncated (" + length + " bytes)", e);
        }
    }

    private static void readFully(DataInputStream in, byte[] b, String what) throws IOException {
        try {
            in.readFully(b);
        } catch (EOFException e) {
            throw new MigrationException("connection closed in the middle of " + what, e);
        }
    }

    /** The peer's reason is shown to an operator: keep it valid UTF-8 and short. */
    private static String decodeUtf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(b))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("REPLACE never throws", e);
        }
    }

    private static byte[] truncateUtf8(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= max) {
            return b;
        }
        int end = max;
        while (end > 0 && (b[end] & 0xC0) == 0x80) {
            end--; // don't cut a multi-byte character in half
        }
        return Arrays.copyOf(b, end);
    }
}
