package io.jvhost.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.Fd;
import io.jvhost.protocol.FrontendMessage.RemMemReg;
import io.jvhost.protocol.FrontendMessage.SetDeviceStateFd;
import io.jvhost.protocol.FrontendMessage.SetMemTable;
import io.jvhost.protocol.FrontendMessage.SetVringCall;
import io.jvhost.protocol.Reply.DeviceStateFd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Malformed payloads and fd counts are refused with a ProtocolException, and every fd is closed. */
class ValidationTest {
    private long openBefore;

    @BeforeEach
    void countFds() {
        openBefore = TestFds.openCount();
    }

    @AfterEach
    void noFdLeaks() {
        assertEquals(openBefore, TestFds.openCount(), "file descriptors leaked");
    }

    /** A payload in native order, built by {@code fill}. */
    private static ByteBuffer payload(int size, Consumer<ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
        fill.accept(b);
        return b.clear();
    }

    private static ByteBuffer u64(long v) {
        return payload(8, b -> b.putLong(v));
    }

    private static ByteBuffer state(int index, int num) {
        return payload(8, b -> b.putInt(index).putInt(num));
    }

    /** Decoding must fail, mention {@code expectedText}, and close all {@code fdCount} fds handed in. */
    private static ProtocolException rejectFrontend(
            FrontendRequest r, ByteBuffer payload, int fdCount, String expectedText) {
        List<Fd> fds = TestFds.eventfds(fdCount);
        ProtocolException e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decode(
                        Direction.FRONTEND, Header.forRequest(r, false, payload.remaining()), payload, fds));
        assertTrue(e.getMessage().contains(r.name()), "names the request: " + e.getMessage());
        assertTrue(e.getMessage().contains(expectedText), e.getMessage());
        for (Fd fd : fds) assertFalse(fd.isOpen(), "fd left open after a rejected message");
        assertEquals(Optional.of(Header.forRequest(r, false, payload.remaining())), e.header());
        return e;
    }

    private static FrontendMessage acceptFrontend(FrontendRequest r, ByteBuffer payload, List<Fd> fds)
            throws ProtocolException {
        return MessageCodec.decode(Direction.FRONTEND, Header.forRequest(r, false, payload.remaining()), payload, fds);
    }

    @Test
    void fdCountMismatchEitherWay() {
        rejectFrontend(FrontendRequest.GET_FEATURES, payload(0, b -> {}), 1, "1 fds attached, expected exactly 0");
        rejectFrontend(FrontendRequest.SET_LOG_BASE, payload(16, b -> {}), 0, "0 fds attached, expected exactly 1");
        rejectFrontend(FrontendRequest.SET_LOG_BASE, payload(16, b -> {}), 2, "2 fds attached, expected exactly 1");
        rejectFrontend(FrontendRequest.SET_DEVICE_STATE_FD, payload(8, b -> {}), 0, "expected exactly 1");
        rejectFrontend(FrontendRequest.ADD_MEM_REG, Samples.singleRegionPayload(), 0, "expected exactly 1");
        rejectFrontend(FrontendRequest.SET_VRING_KICK, u64(0), 2, "expected 0..1");
        rejectFrontend(FrontendRequest.SET_MEM_TABLE, Samples.memTablePayload(1, 1), 9, "9 fds");
        rejectFrontend(FrontendRequest.SET_MEM_TABLE, Samples.memTablePayload(1, 1), 0, "expected 1..8");
        List<Fd> nine = TestFds.eventfds(9);
        assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decode(
                        Direction.BACKEND,
                        Header.forRequest(BackendRequest.VRING_HOST_NOTIFIER_MSG, false, 24),
                        ByteBuffer.allocate(24),
                        nine));
        nine.forEach(fd -> assertFalse(fd.isOpen()));
    }

    @Test
    void memTableRegionCountMustMatchPayloadAndFds() {
        rejectFrontend(FrontendRequest.SET_MEM_TABLE, Samples.memTablePayload(2, 2), 1, "2 regions but 1 fds");
        rejectFrontend(FrontendRequest.SET_MEM_TABLE, Samples.memTablePayload(1, 2), 2, "does not hold 1 regions");
        rejectFrontend(FrontendRequest.SET_MEM_TABLE, Samples.memTablePayload(3, 2), 2, "does not hold 3 regions");
        rejectFrontend(FrontendRequest.SET_MEM_TABLE, Samples.memTablePayload(0, 1), 1, "0 regions");
        rejectFrontend(FrontendRequest.SET_MEM_TABLE, Samples.memTablePayload(9, 9), 8, "payload of 296 bytes");
        ByteBuffer emptyRegion = payload(
                40, b -> b.putInt(1).putInt(0).putLong(0).putLong(0).putLong(0).putLong(0));
        rejectFrontend(FrontendRequest.SET_MEM_TABLE, emptyRegion, 1, "size 0");
        ByteBuffer wrapping = payload(
                40,
                b -> b.putInt(1)
                        .putInt(0)
                        .putLong(-4096)
                        .putLong(8192)
                        .putLong(0)
                        .putLong(0));
        rejectFrontend(FrontendRequest.SET_MEM_TABLE, wrapping, 1, "wraps around");
    }

    @Test
    void vringFdFlagMustMatchTheFds() throws ProtocolException {
        rejectFrontend(FrontendRequest.SET_VRING_KICK, u64(1), 0, "no fd attached");
        rejectFrontend(FrontendRequest.SET_VRING_CALL, u64(0x101), 1, "no-fd flag (bit 8) set but an fd");
        rejectFrontend(FrontendRequest.SET_VRING_ERR, u64(0x201), 1, "reserved bits");
        rejectFrontend(FrontendRequest.SET_VRING_ERR, u64(1L << 63 | 0x100), 0, "reserved bits");
        FrontendMessage polled = acceptFrontend(FrontendRequest.SET_VRING_CALL, u64(0x1ff), List.of());
        assertEquals(new SetVringCall(255, Optional.empty()), polled);
    }

    @Test
    void strayFdOnRemMemRegIsClosed() throws ProtocolException {
        Fd stray = TestFds.eventfd();
        FrontendMessage m = acceptFrontend(FrontendRequest.REM_MEM_REG, Samples.singleRegionPayload(), List.of(stray));
        assertEquals(new RemMemReg(Samples.region(1)), m);
        assertTrue(m.fds().isEmpty());
        assertFalse(stray.isOpen(), "the spec says a stray fd must be closed without use");
    }

    @Test
    void fieldRangesAreChecked() {
        rejectFrontend(FrontendRequest.SET_VRING_ENABLE, state(0, 2), 0, "enable value 2");
        rejectFrontend(FrontendRequest.SET_VRING_ENDIAN, state(0, 3), 0, "endianness value 3");
        rejectFrontend(FrontendRequest.SET_VRING_NUM, state(0x8000, 256), 0, "vring index 32768");
        rejectFrontend(FrontendRequest.SET_VRING_BASE, state(-1, 0), 0, "vring index 4294967295");
        rejectFrontend(FrontendRequest.GET_VRING_BASE, state(0x10000, 0), 0, "vring index");
        rejectFrontend(FrontendRequest.SET_STATUS, u64(0x100), 0, "device status 256");
        rejectFrontend(FrontendRequest.NET_SET_MTU, u64(70000), 0, "MTU 70000");
        rejectFrontend(FrontendRequest.NET_SET_MTU, u64(-1), 0, "MTU 18446744073709551615");
        rejectFrontend(
                FrontendRequest.SET_VRING_ADDR, payload(40, b -> b.putInt(0).putInt(2)), 0, "vring address flags 0x2");
        rejectFrontend(
                FrontendRequest.IOTLB_MSG,
                payload(32, b -> b.position(24).put((byte) 3).put((byte) 5)),
                0,
                "IOTLB message type 5");
        rejectFrontend(
                FrontendRequest.IOTLB_MSG,
                payload(32, b -> b.position(24).put((byte) 4).put((byte) 2)),
                0,
                "IOTLB permission 4");
        rejectFrontend(
                FrontendRequest.SET_CONFIG,
                payload(20, b -> b.putInt(0).putInt(9).putInt(0)),
                0,
                "config size 9 but 8 config bytes");
        rejectFrontend(
                FrontendRequest.GET_CONFIG,
                payload(268, b -> b.putInt(0).putInt(257).putInt(0)),
                0,
                "config size 257 exceeds 256");
        rejectFrontend(
                FrontendRequest.SET_CONFIG, payload(12 + 300, b -> {}), 0, "payload of 312 bytes, expected 12..268");
        rejectFrontend(FrontendRequest.CREATE_CRYPTO_SESSION, payload(8, b -> {}), 0, "expected 16..4096");
    }

    @Test
    void unknownDeviceStatePhaseStillDecodes() throws ProtocolException {
        Fd fd = TestFds.eventfd();
        FrontendMessage m = acceptFrontend(FrontendRequest.SET_DEVICE_STATE_FD, state(1, 9), List.of(fd));
        SetDeviceStateFd d = assertInstanceOf(SetDeviceStateFd.class, m);
        assertEquals(Optional.of(DeviceStateDirection.LOAD), d.knownDirection());
        assertEquals(Optional.empty(), d.knownPhase());
        assertEquals(9, d.phase());
        assertTrue(fd.isOpen());
        d.closeFds();
        assertFalse(fd.isOpen());
    }

    @Test
    void truncatedPayloadIsRefused() {
        ByteBuffer four = ByteBuffer.allocate(4);
        ProtocolException e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decode(
                        Direction.FRONTEND,
                        Header.forRequest(FrontendRequest.SET_FEATURES, false, 8),
                        four,
                        List.of()));
        assertTrue(e.getMessage().contains("announces 8 payload bytes but 4"), e.getMessage());
    }

    private static ProtocolException rejectReply(
            FrontendRequest r, ByteBuffer payload, int fdCount, String expectedText) {
        List<Fd> fds = TestFds.eventfds(fdCount);
        ProtocolException e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decodeReply(r, Header.forReply(r, payload.remaining()), payload, fds));
        assertTrue(e.getMessage().contains(expectedText), e.getMessage());
        for (Fd fd : fds) assertFalse(fd.isOpen(), "fd left open after a rejected reply");
        return e;
    }

    private static Reply acceptReply(FrontendRequest r, ByteBuffer payload, List<Fd> fds) throws ProtocolException {
        return MessageCodec.decodeReply(r, Header.forReply(r, payload.remaining()), payload, fds);
    }

    @Test
    void deviceStateReplyNeverHasBothErrorAndFd() throws ProtocolException {
        rejectReply(FrontendRequest.SET_DEVICE_STATE_FD, u64(1), 1, "reports error 1 and carries an fd");
        rejectReply(FrontendRequest.SET_DEVICE_STATE_FD, u64(0x101), 1, "reports error 1 and carries an fd");
        rejectReply(FrontendRequest.SET_DEVICE_STATE_FD, u64(0x100), 1, "sets no-fd but carries an fd");
        rejectReply(FrontendRequest.SET_DEVICE_STATE_FD, u64(0), 0, "announces an fd but has none");
        rejectReply(FrontendRequest.SET_DEVICE_STATE_FD, u64(0), 2, "2 fds");
        assertEquals(
                DeviceStateFd.refused(0x7f), acceptReply(FrontendRequest.SET_DEVICE_STATE_FD, u64(0x17f), List.of()));
        // QEMU checks the error bits first: an error without bit 8 and without an fd is still that error.
        assertEquals(DeviceStateFd.refused(3), acceptReply(FrontendRequest.SET_DEVICE_STATE_FD, u64(3), List.of()));
        // Undefined upper bits are ignored, as QEMU does.
        assertEquals(
                DeviceStateFd.accepted(),
                acceptReply(FrontendRequest.SET_DEVICE_STATE_FD, u64(0xff00_0100L), List.of()));
        assertEquals(0x100, DeviceStateFd.accepted().toU64());
        assertEquals(0x105, DeviceStateFd.refused(5).toU64());
        assertThrows(IllegalArgumentException.class, () -> DeviceStateFd.refused(0));
        Fd fd = TestFds.eventfd();
        assertThrows(IllegalArgumentException.class, () -> new DeviceStateFd(2, Optional.of(fd)));
        fd.close();
    }

    @Test
    void otherReplyShapes() throws ProtocolException {
        rejectReply(FrontendRequest.GET_INFLIGHT_FD, payload(24, b -> b.putLong(4096)), 0, "needs an fd");
        rejectReply(FrontendRequest.GET_INFLIGHT_FD, payload(24, b -> {}), 1, "must not carry an fd");
        rejectReply(FrontendRequest.GET_FEATURES, u64(0), 1, "1 fds, expected exactly 0");
        rejectReply(
                FrontendRequest.GET_CONFIG,
                payload(20, b -> b.putInt(0).putInt(4).putInt(0)),
                0,
                "config size 4 but 8 config bytes");
        rejectReply(FrontendRequest.ADD_MEM_REG, payload(16, b -> {}), 0, "expected exactly 40");
        rejectReply(FrontendRequest.SET_MEM_TABLE, Samples.memTablePayload(2, 1), 0, "claims 2 regions");
        rejectReply(FrontendRequest.GET_SHARED_OBJECT, u64(0), 0, "expected exactly 0");
        rejectReply(FrontendRequest.GET_SHMEM_CONFIG, payload(2056, b -> b.putInt(257)), 0, "region count 257");
        assertInstanceOf(
                Reply.ConfigFailure.class, acceptReply(FrontendRequest.GET_CONFIG, payload(0, b -> {}), List.of()));
        assertEquals(
                Reply.U64.SUCCESS,
                acceptReply(FrontendRequest.SET_LOG_BASE, payload(16, b -> b.putLong(99)), List.of()),
                "rust-vmm's echo of the log description is an ack");
        assertEquals(
                new Reply.U64(0x2_0000),
                acceptReply(FrontendRequest.SET_LOG_BASE, u64(0x2_0000), List.of()),
                "a u64 is kept as sent; interpreting it is the front-end's business");
        rejectReply(FrontendRequest.SET_LOG_BASE, payload(12, b -> {}), 0, "expected exactly 8");
        Fd dmabuf = TestFds.eventfd();
        Reply echoed = acceptReply(FrontendRequest.GET_SHARED_OBJECT, payload(16, b -> {}), List.of(dmabuf));
        assertEquals(List.of(dmabuf), echoed.fds(), "libvhost-user echoes the UUID with the fd");
        echoed.closeFds();
        rejectReply(FrontendRequest.POSTCOPY_ADVISE, payload(16, b -> {}), 0, "expected exactly 0");
        assertEquals(new Reply.U64(7), acceptReply(FrontendRequest.SET_MEM_TABLE, u64(7), List.of()));
        assertEquals(new Reply.U64(5), acceptReply(FrontendRequest.ADD_MEM_REG, u64(5), List.of()));

        List<Fd> none = List.of();
        ProtocolException e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decodeReply(
                        BackendRequest.SHARED_OBJECT_LOOKUP,
                        Header.forReply(BackendRequest.SHARED_OBJECT_LOOKUP, 8),
                        u64(0),
                        none));
        assertTrue(e.getMessage().contains("needs an fd"), e.getMessage());
    }

    @Test
    void encodeReplyRefusesAReplyOfTheWrongType() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> MessageCodec.encodeReply(FrontendRequest.GET_VRING_BASE, Reply.U64.SUCCESS));
        assertTrue(e.getMessage().contains("U64 cannot answer GET_VRING_BASE (11)"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> MessageCodec.encodeReply(FrontendRequest.GET_FEATURES, new Reply.VringState(0, 0)));
        assertThrows(
                IllegalArgumentException.class,
                () -> MessageCodec.encodeReply(BackendRequest.SHARED_OBJECT_LOOKUP, Reply.U64.SUCCESS));
    }

    @Test
    void recordsValidateAndCopyArrays() {
        Fd fd = TestFds.eventfd();
        try {
            assertThrows(
                    IllegalArgumentException.class,
                    () -> new SetMemTable(List.of(Samples.region(0), Samples.region(1)), List.of(fd)));
            assertThrows(IllegalArgumentException.class, () -> new SetMemTable(List.of(), List.of()));
            assertThrows(IllegalArgumentException.class, () -> new SetVringCall(256, Optional.empty()));
            assertThrows(IllegalArgumentException.class, () -> new FrontendMessage.SendRarp(new byte[5]));
            assertThrows(IllegalArgumentException.class, () -> new FrontendMessage.SetConfig(0, 0, new byte[257]));
            assertThrows(IllegalArgumentException.class, () -> new FrontendMessage.GetConfig(0, 257, 0));
            assertThrows(IllegalArgumentException.class, () -> new MemoryRegionDescriptor(0, 0, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> new MemoryRegionDescriptor(0, 1, -1, 0));
            new MemoryRegionDescriptor(-2, 1, 0, 0); // ends exactly at 2^64 - 1: fine
        } finally {
            fd.close();
        }
        byte[] data = {1, 2, 3};
        FrontendMessage.SetConfig c = new FrontendMessage.SetConfig(0, 0, data);
        data[0] = 9;
        assertArrayEquals(new byte[] {1, 2, 3}, c.data(), "input array copied");
        c.data()[1] = 9;
        assertArrayEquals(new byte[] {1, 2, 3}, c.data(), "output array copied");
        assertEquals(new FrontendMessage.SetConfig(0, 0, new byte[] {1, 2, 3}), c);
        Reply.ShmemConfig s = new Reply.ShmemConfig(1, List.of(4096L));
        assertEquals(256, s.memorySizes().size());
        assertEquals(new Reply.ShmemConfig(1, s.memorySizes()), s);
        byte[] session = Samples.bytes(32, 0);
        ByteBuffer.wrap(session).order(ByteOrder.nativeOrder()).putLong(24, -1);
        assertEquals(-1, new Reply.CryptoSession(session).sessionId());
    }
}
