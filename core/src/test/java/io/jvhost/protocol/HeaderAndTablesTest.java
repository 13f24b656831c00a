package io.jvhost.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jvhost.protocol.FrontendMessage.GetSharedObject;
import io.jvhost.protocol.FrontendMessage.SetVringKick;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Byte-exact wire layouts, the request tables, and header validation. */
class HeaderAndTablesTest {
    private static final HexFormat HEX = HexFormat.of();

    private static String frameHex(EncodedMessage e) {
        ByteBuffer f = e.frame();
        byte[] b = new byte[f.remaining()];
        f.get(b);
        return HEX.formatHex(b);
    }

    @Test
    void goldenBytesOnLittleEndianHosts() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "golden vectors are little endian");
        assertEquals(
                "010000000100000000000000", frameHex(MessageCodec.encode(new FrontendMessage.GetFeatures(), false)));
        assertEquals(
                "0c0000000900000008000000" + "0101000000000000",
                frameHex(MessageCodec.encode(new SetVringKick(1, Optional.empty()), true)));
        // VhostUserShared: RFC 4122 byte order regardless of host order.
        assertEquals(
                "290000000100000010000000" + "0123456789abcdeffedcba9876543210",
                frameHex(MessageCodec.encode(new GetSharedObject(Samples.UUID_SAMPLE), false)));
        assertEquals(
                "2a0000000500000008000000" + "0001000000000000",
                frameHex(
                        MessageCodec.encodeReply(FrontendRequest.SET_DEVICE_STATE_FD, Reply.DeviceStateFd.accepted())));
        assertEquals(
                "0b0000000500000008000000" + "0100000034120000",
                frameHex(MessageCodec.encodeReply(FrontendRequest.GET_VRING_BASE, new Reply.VringState(1, 0x1234))));
    }

    @Test
    void headerReadsAndWritesTwelveNativeOrderBytes() {
        Header h = new Header(5, Header.VERSION_1 | Header.NEED_REPLY, 40);
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN); // buffer order must not matter
        h.write(b);
        assertEquals(Header.SIZE, b.position());
        b.flip();
        assertEquals(h, Header.read(b));
        assertEquals(Header.SIZE, b.position());
        assertEquals(1, h.version());
        assertTrue(h.needsReply());
        assertFalse(h.isReply());
        assertEquals(new Header(11, 0x5, 8), Header.forReply(FrontendRequest.GET_VRING_BASE, 8));
        assertEquals(new Header(2, 0x9, 8), Header.forRequest(FrontendRequest.SET_FEATURES, true, 8));
        assertEquals(0xffff_ffffL, new Header(1, 1, -1).unsignedSize());
    }

    private static ProtocolException decodeFails(Header h, int payloadBytes) {
        return assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decode(Direction.FRONTEND, h, ByteBuffer.allocate(payloadBytes), List.of()));
    }

    @Test
    void headerValidationNamesTheRequest() {
        ProtocolException e = decodeFails(new Header(1, 0x2, 0), 0);
        assertTrue(e.getMessage().contains("GET_FEATURES (1)") && e.getMessage().contains("version 2"), e.getMessage());
        assertTrue(e.header().isPresent());
        assertTrue(e.streamInSync(), "the codec had the whole frame");

        e = decodeFails(new Header(1, 0x0, 0), 0);
        assertTrue(e.getMessage().contains("version 0"), e.getMessage());

        e = decodeFails(new Header(1, 0x11, 0), 0);
        assertTrue(e.getMessage().contains("reserved header flag"), e.getMessage());

        e = decodeFails(new Header(2, 0x5, 8), 8);
        assertTrue(e.getMessage().contains("SET_FEATURES") && e.getMessage().contains("REPLY flag"), e.getMessage());

        e = decodeFails(new Header(25, 0x1, 4097), 4097);
        assertTrue(e.getMessage().contains("SET_CONFIG") && e.getMessage().contains("4097"), e.getMessage());

        e = decodeFails(new Header(1, 0x1, 8), 8);
        assertTrue(
                e.getMessage().contains("GET_FEATURES") && e.getMessage().contains("expected exactly 0"),
                e.getMessage());

        e = decodeFails(new Header(2, 0x1, 4), 4);
        assertTrue(
                e.getMessage().contains("SET_FEATURES") && e.getMessage().contains("expected exactly 8"),
                e.getMessage());

        e = decodeFails(new Header(9, 0x1, 40), 32);
        assertTrue(
                e.getMessage().contains("SET_VRING_ADDR") && e.getMessage().contains("announces 40"), e.getMessage());

        for (int unknown : new int[] {0, 45, 1000, -1}) {
            e = decodeFails(new Header(unknown, 0x1, 0), 0);
            assertTrue(
                    e.getMessage().contains("unknown front-end request id " + Integer.toUnsignedString(unknown)),
                    e.getMessage());
        }
        e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decode(Direction.BACKEND, new Header(9, 0x1, 0), ByteBuffer.allocate(0), List.of()));
        assertTrue(e.getMessage().contains("unknown back-end request id 9"), e.getMessage());
    }

    @Test
    void replyHeaderMustBeExactlyVersionAndReplyForTheRightRequest() {
        ByteBuffer eight = ByteBuffer.allocate(8);
        ProtocolException e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decodeReply(
                        FrontendRequest.GET_FEATURES, new Header(1, 0x1, 8), eight.duplicate(), List.of()));
        assertTrue(e.getMessage().contains("reply flags 0x1"), e.getMessage());
        e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decodeReply(
                        FrontendRequest.GET_FEATURES, new Header(1, 0xd, 8), eight.duplicate(), List.of()));
        assertTrue(e.getMessage().contains("reply flags 0xd"), e.getMessage());
        e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decodeReply(
                        FrontendRequest.GET_FEATURES, new Header(15, 0x5, 8), eight.duplicate(), List.of()));
        assertTrue(
                e.getMessage().contains("reply to GET_FEATURES (1)")
                        && e.getMessage().contains("request id 15"),
                e.getMessage());
        e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decodeReply(
                        FrontendRequest.GET_VRING_BASE, new Header(11, 0x5, 16), ByteBuffer.allocate(16), List.of()));
        assertTrue(e.getMessage().contains("expected exactly 8"), e.getMessage());
        e = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decodeReply(
                        BackendRequest.VRING_CALL, new Header(4, 0x5, 4), ByteBuffer.allocate(4), List.of()));
        assertTrue(e.getMessage().contains("reply to VRING_CALL (4)"), e.getMessage());
    }

    @Test
    void frontendRequestIdsAndNamesFollowTheSpec() {
        List<String> spec = List.of(
                "GET_FEATURES",
                "SET_FEATURES",
                "SET_OWNER",
                "RESET_OWNER",
                "SET_MEM_TABLE",
                "SET_LOG_BASE",
                "SET_LOG_FD",
                "SET_VRING_NUM",
                "SET_VRING_ADDR",
                "SET_VRING_BASE",
                "GET_VRING_BASE",
                "SET_VRING_KICK",
                "SET_VRING_CALL",
                "SET_VRING_ERR",
                "GET_PROTOCOL_FEATURES",
                "SET_PROTOCOL_FEATURES",
                "GET_QUEUE_NUM",
                "SET_VRING_ENABLE",
                "SEND_RARP",
                "NET_SET_MTU",
                "SET_BACKEND_REQ_FD",
                "IOTLB_MSG",
                "SET_VRING_ENDIAN",
                "GET_CONFIG",
                "SET_CONFIG",
                "CREATE_CRYPTO_SESSION",
                "CLOSE_CRYPTO_SESSION",
                "POSTCOPY_ADVISE",
                "POSTCOPY_LISTEN",
                "POSTCOPY_END",
                "GET_INFLIGHT_FD",
                "SET_INFLIGHT_FD",
                "GPU_SET_SOCKET",
                "RESET_DEVICE",
                "VRING_KICK",
                "GET_MAX_MEM_SLOTS",
                "ADD_MEM_REG",
                "REM_MEM_REG",
                "SET_STATUS",
                "GET_STATUS",
                "GET_SHARED_OBJECT",
                "SET_DEVICE_STATE_FD",
                "CHECK_DEVICE_STATE",
                "GET_SHMEM_CONFIG");
        assertEquals(44, FrontendRequest.values().length);
        for (int id = 1; id <= 44; id++) {
            FrontendRequest r = Direction.FRONTEND.find(id).orElseThrow();
            assertEquals(id, r.id());
            assertEquals(spec.get(id - 1), r.name());
        }
        assertTrue(Direction.FRONTEND.find(0).isEmpty());
        assertTrue(Direction.FRONTEND.find(45).isEmpty());
        assertTrue(Direction.FRONTEND.find(Integer.MIN_VALUE).isEmpty());
        assertEquals("front-end request 45 (unknown)", Direction.FRONTEND.describe(45));

        List<String> backend = List.of(
                "IOTLB_MSG",
                "CONFIG_CHANGE_MSG",
                "VRING_HOST_NOTIFIER_MSG",
                "VRING_CALL",
                "VRING_ERR",
                "SHARED_OBJECT_ADD",
                "SHARED_OBJECT_REMOVE",
                "SHARED_OBJECT_LOOKUP");
        assertEquals(8, BackendRequest.values().length);
        for (int id = 1; id <= 8; id++)
            assertEquals(
                    backend.get(id - 1),
                    Direction.BACKEND.find(id).orElseThrow().name());
        assertTrue(Direction.BACKEND.find(9).isEmpty());
    }

    /** The table {@code request()} is read from: each message record is named by exactly one request of its direction. */
    @Test
    void everyMessageRecordIsNamedByExactlyOneRequest() {
        assertEquals(
                records(FrontendMessage.class),
                EnumSet.allOf(FrontendRequest.class).stream()
                        .map(FrontendRequest::messageType)
                        .collect(Collectors.toSet()));
        assertEquals(44, records(FrontendMessage.class).size());
        assertEquals(
                records(BackendMessage.class),
                EnumSet.allOf(BackendRequest.class).stream()
                        .map(BackendRequest::messageType)
                        .collect(Collectors.toSet()));
        assertEquals(8, records(BackendMessage.class).size());
        assertEquals(FrontendRequest.SET_VRING_CALL, new FrontendMessage.SetVringCall(0, Optional.empty()).request());
        assertEquals(FrontendRequest.GET_SHMEM_CONFIG, new FrontendMessage.GetShmemConfig().request());
        assertEquals(BackendRequest.CONFIG_CHANGE_MSG, new BackendMessage.ConfigChange().request());
        assertEquals(BackendRequest.VRING_ERR, new BackendMessage.VringErr(2).request());
    }

    private static Set<Class<?>> records(Class<?> sealed) {
        return Stream.of(sealed.getPermittedSubclasses())
                .flatMap(c -> c.isRecord() ? Stream.of(c) : records(c).stream())
                .collect(Collectors.toSet());
    }

    @Test
    void fdCountsPerRequest() {
        for (FrontendRequest r : FrontendRequest.values()) {
            String expected = switch (r) {
                case SET_MEM_TABLE -> "1..8";
                case SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR, REM_MEM_REG -> "0..1";
                case SET_LOG_BASE,
                        SET_LOG_FD,
                        SET_BACKEND_REQ_FD,
                        SET_INFLIGHT_FD,
                        GPU_SET_SOCKET,
                        ADD_MEM_REG,
                        SET_DEVICE_STATE_FD -> "1..1";
                default -> "0..0";
            };
            assertEquals(expected, r.minFds() + ".." + r.maxFds(), r.name());
        }
        for (BackendRequest r : BackendRequest.values()) {
            assertEquals(r == BackendRequest.VRING_HOST_NOTIFIER_MSG ? 1 : 0, r.maxFds(), r.name());
            assertEquals(0, r.minFds(), r.name());
        }
    }

    @Test
    void payloadLimitsFitTheMaximum() {
        for (Request r : FrontendRequest.values()) {
            assertTrue(
                    0 <= r.minPayload() && r.minPayload() <= r.maxPayload() && r.maxPayload() <= Header.MAX_PAYLOAD,
                    r.name());
        }
        assertEquals(8 + 32 * 8, FrontendRequest.SET_MEM_TABLE.maxPayload());
        assertEquals(12 + 256, FrontendRequest.SET_CONFIG.maxPayload());
    }

    @Test
    void replyRules() {
        EnumSet<FrontendRequest> always = EnumSet.noneOf(FrontendRequest.class);
        for (FrontendRequest r : FrontendRequest.values()) if (r.replyRule() == ReplyRule.ALWAYS) always.add(r);
        assertEquals(
                EnumSet.of(
                        FrontendRequest.GET_FEATURES,
                        FrontendRequest.GET_PROTOCOL_FEATURES,
                        FrontendRequest.GET_VRING_BASE,
                        FrontendRequest.GET_QUEUE_NUM,
                        FrontendRequest.GET_CONFIG,
                        FrontendRequest.GET_MAX_MEM_SLOTS,
                        FrontendRequest.GET_STATUS,
                        FrontendRequest.GET_INFLIGHT_FD,
                        FrontendRequest.SET_DEVICE_STATE_FD,
                        FrontendRequest.CHECK_DEVICE_STATE,
                        FrontendRequest.GET_SHARED_OBJECT,
                        FrontendRequest.GET_SHMEM_CONFIG,
                        FrontendRequest.CREATE_CRYPTO_SESSION,
                        FrontendRequest.POSTCOPY_ADVISE,
                        FrontendRequest.POSTCOPY_END),
                always);

        long logShmfd = ProtocolFeature.LOG_SHMFD.mask();
        ReplyRule log = FrontendRequest.SET_LOG_BASE.replyRule();
        assertTrue(log.replyExpected(false, logShmfd, false));
        assertFalse(log.replyExpected(false, 0, false));

        ReplyRule memTable = FrontendRequest.SET_MEM_TABLE.replyRule();
        assertEquals(memTable, FrontendRequest.ADD_MEM_REG.replyRule());
        assertTrue(memTable.replyExpected(false, 0, true));
        assertFalse(memTable.replyExpected(false, ProtocolFeature.REPLY_ACK.mask(), false));
        assertTrue(memTable.replyExpected(true, ProtocolFeature.REPLY_ACK.mask(), false));

        ReplyRule setFeatures = FrontendRequest.SET_FEATURES.replyRule();
        assertFalse(setFeatures.replyExpected(false, -1L, true));
        assertTrue(setFeatures.replyExpected(true, 0, false), "NEED_REPLY is answered even without REPLY_ACK");
        assertTrue(BackendRequest.SHARED_OBJECT_LOOKUP.replyRule().replyExpected(false, 0, false));
        assertFalse(BackendRequest.VRING_CALL.replyRule().replyExpected(false, -1L, false));
    }

    @Test
    void unknownRequestLookupThrowsProtocolException() {
        ProtocolException e = assertThrows(ProtocolException.class, () -> Direction.FRONTEND.of(99));
        assertEquals("unknown front-end request id 99 (known: 1..44)", e.getMessage());
        e = assertThrows(ProtocolException.class, () -> Direction.BACKEND.of(0));
        assertEquals("unknown back-end request id 0 (known: 1..8)", e.getMessage());
    }
}
