package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ControlCodecTest {

    private static ControlMessage roundTrip(ControlMessage m) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ControlCodec.write(new DataOutputStream(b), m);
        return ControlCodec.read(new DataInputStream(new ByteArrayInputStream(b.toByteArray())));
    }

    private static MigrationException rejects(byte[] bytes) {
        return assertThrows(
                MigrationException.class,
                () -> ControlCodec.read(new DataInputStream(new ByteArrayInputStream(bytes))));
    }

    @Test
    void everyMessageRoundTrips() throws IOException {
        for (ControlMessage m : List.of(
                new ControlMessage.Hello("virtio-fs", -1L, 4, 1 << 20, -1),
                new ControlMessage.Accept(),
                new ControlMessage.End(1L << 40, 12345, 0xCAFEBABE),
                new ControlMessage.Ok(),
                new ControlMessage.Abort("disk full: ünïcode ok"))) {
            assertEquals(m, roundTrip(m));
        }
    }

    @Test
    void packetHeaderIsBigEndian() {
        byte[] h = new PacketHeader(1, 0x01020304, 1, 0x10).encode();
        assertEquals(
                "00000001010203040000000100000010", java.util.HexFormat.of().formatHex(h));
        assertEquals(new PacketHeader(1, 0x01020304, 1, 0x10), PacketHeader.decode(h));
    }

    @Test
    void longReasonsAreCutAtACharacterBoundary() throws IOException {
        String reason = "é".repeat(5000);
        ControlMessage.Abort a = (ControlMessage.Abort) roundTrip(new ControlMessage.Abort(reason));
        assertEquals(StreamFormat.MAX_REASON_BYTES / 2, a.reason().length());
    }

    @Test
    void aRejectionKeepsWhatWentWrongUnderneathAsItsCause() {
        assertInstanceOf(
                java.nio.BufferUnderflowException.class,
                rejects(ByteBuffer.allocate(12)
                                .putInt(ControlCodec.END)
                                .putInt(4)
                                .putInt(0)
                                .array())
                        .getCause());
        assertInstanceOf(
                java.io.EOFException.class,
                rejects(ByteBuffer.allocate(8)
                                .putInt(ControlCodec.END)
                                .putInt(20)
                                .array())
                        .getCause());
    }

    @Test
    void hostileControlMessages() {
        assertTrue(rejects(ByteBuffer.allocate(8).putInt(3).putInt(1 << 30).array())
                .getMessage()
                .contains("exceeds"));
        assertTrue(rejects(ByteBuffer.allocate(8).putInt(99).putInt(0).array())
                .getMessage()
                .contains("unknown control"));
        assertTrue(rejects(ByteBuffer.allocate(12)
                        .putInt(ControlCodec.END)
                        .putInt(4)
                        .putInt(0)
                        .array())
                .getMessage()
                .contains("truncated"));
        assertTrue(rejects(ByteBuffer.allocate(9)
                        .putInt(ControlCodec.OK)
                        .putInt(1)
                        .put((byte) 0)
                        .array())
                .getMessage()
                .contains("trailing"));
        assertTrue(rejects(ByteBuffer.allocate(10)
                        .putInt(ControlCodec.HELLO)
                        .putInt(2)
                        .putShort((short) 0)
                        .array())
                .getMessage()
                .contains("device type of 0 bytes"));
        assertTrue(rejects(ByteBuffer.allocate(8)
                        .putInt(ControlCodec.END)
                        .putInt(20)
                        .array())
                .getMessage()
                .contains("closed in the middle"));
    }

    @Test
    void preambleChecks() {
        byte[] bad = "NOTJVHMG".getBytes();
        assertTrue(assertThrows(
                        MigrationException.class,
                        () -> ControlCodec.readPreamble(new DataInputStream(new ByteArrayInputStream(bad))))
                .getMessage()
                .contains("bad magic"));
        byte[] v2 = ByteBuffer.allocate(32)
                .put(StreamFormat.MAGIC)
                .putInt(2)
                .putInt(1)
                .array();
        assertTrue(assertThrows(
                        MigrationException.class,
                        () -> ControlCodec.readPreamble(new DataInputStream(new ByteArrayInputStream(v2))))
                .getMessage()
                .contains("stream version 2"));
        byte[] role = ByteBuffer.allocate(32)
                .put(StreamFormat.MAGIC)
                .putInt(1)
                .putInt(7)
                .array();
        assertTrue(assertThrows(
                        MigrationException.class,
                        () -> ControlCodec.readPreamble(new DataInputStream(new ByteArrayInputStream(role))))
                .getMessage()
                .contains("role 7"));
    }
}
