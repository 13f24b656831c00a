package io.jvhost.protocol;

import static io.jvhost.protocol.MessageAssertions.assertSameMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.Fd;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** encode → decode gives the same message back, for every message and reply type; fds survive. */
class RoundTripTest {
    private long openBefore;

    @BeforeEach
    void countFds() {
        openBefore = TestFds.openCount();
    }

    @AfterEach
    void noFdLeaks() {
        assertEquals(openBefore, TestFds.openCount(), "file descriptors leaked");
    }

    @Test
    void samplesCoverEveryRequestAndReplyType() {
        List<FrontendMessage> fm = Samples.frontend();
        List<BackendMessage> bm = Samples.backend();
        List<Samples.FrontendReplyCase> fr = Samples.frontendReplies();
        List<Samples.BackendReplyCase> br = Samples.backendReplies();
        try {
            assertEquals(
                    EnumSet.allOf(FrontendRequest.class),
                    fm.stream()
                            .map(FrontendMessage::request)
                            .collect(Collectors.toCollection(() -> EnumSet.noneOf(FrontendRequest.class))));
            assertEquals(
                    EnumSet.allOf(BackendRequest.class),
                    bm.stream()
                            .map(BackendMessage::request)
                            .collect(Collectors.toCollection(() -> EnumSet.noneOf(BackendRequest.class))));
            Set<Class<?>> replyTypes = Stream.concat(
                            fr.stream().map(c -> c.reply().getClass()),
                            br.stream().map(c -> c.reply().getClass()))
                    .collect(Collectors.toSet());
            assertEquals(Set.of(Reply.class.getPermittedSubclasses()), replyTypes);
            // every (request, allowed reply type) pair appears at least once
            for (FrontendRequest r : FrontendRequest.values()) {
                for (Class<? extends Reply> t : MessageCodec.replyTypes(r)) {
                    assertTrue(
                            fr.stream().anyMatch(c -> c.request() == r && t.isInstance(c.reply())),
                            r + " / " + t.getSimpleName());
                }
            }
        } finally {
            fm.forEach(CarriesFds::closeFds);
            bm.forEach(CarriesFds::closeFds);
            fr.forEach(c -> c.reply().closeFds());
            br.forEach(c -> c.reply().closeFds());
        }
    }

    @TestFactory
    Stream<DynamicTest> frontendMessages() {
        return Samples.frontend().stream()
                .map(m -> DynamicTest.dynamicTest(m.toString(), () -> {
                    try {
                        for (boolean needReply : new boolean[] {false, true}) {
                            EncodedMessage e = MessageCodec.encode(m, needReply);
                            assertEquals(m.request().id(), e.header().request());
                            assertEquals(needReply ? 0x9 : 0x1, e.header().flags());
                            assertEquals(m.fds(), e.fds(), "encoding attaches the message's own fds, in order");
                            Wire w = Wire.of(e);
                            FrontendMessage d =
                                    MessageCodec.decode(Direction.FRONTEND, w.header(), w.payload(), w.fds());
                            try {
                                assertSameMessage((Record) m, (Record) d);
                                EncodedMessage again = MessageCodec.encode(d, needReply);
                                assertEquals(e.header(), again.header());
                                assertArrayEquals(e.payload(), again.payload(), "re-encoding gives the same bytes");
                            } finally {
                                d.closeFds();
                            }
                        }
                    } finally {
                        m.closeFds();
                    }
                }));
    }

    @TestFactory
    Stream<DynamicTest> backendMessages() {
        return Samples.backend().stream()
                .map(m -> DynamicTest.dynamicTest(m.toString(), () -> {
                    try {
                        EncodedMessage e = MessageCodec.encode(m, true);
                        assertEquals(m.request().id(), e.header().request());
                        assertEquals(0x9, e.header().flags());
                        Wire w = Wire.of(e);
                        BackendMessage d = MessageCodec.decode(Direction.BACKEND, w.header(), w.payload(), w.fds());
                        try {
                            assertSameMessage((Record) m, (Record) d);
                        } finally {
                            d.closeFds();
                        }
                    } finally {
                        m.closeFds();
                    }
                }));
    }

    @TestFactory
    Stream<DynamicTest> frontendReplies() {
        return Samples.frontendReplies().stream()
                .map(c -> DynamicTest.dynamicTest(c.request() + " ← " + c.reply(), () -> {
                    try {
                        EncodedMessage e = MessageCodec.encodeReply(c.request(), c.reply());
                        assertEquals(Header.REPLY_FLAGS, e.header().flags(), "reply flags are exactly 0x5");
                        assertEquals(c.request().id(), e.header().request());
                        Wire w = Wire.of(e);
                        Reply d = MessageCodec.decodeReply(c.request(), w.header(), w.payload(), w.fds());
                        try {
                            assertSameMessage((Record) c.reply(), (Record) d);
                        } finally {
                            d.closeFds();
                        }
                    } finally {
                        c.reply().closeFds();
                    }
                }));
    }

    @TestFactory
    Stream<DynamicTest> backendReplies() {
        return Samples.backendReplies().stream()
                .map(c -> DynamicTest.dynamicTest(c.request() + " ← " + c.reply(), () -> {
                    try {
                        EncodedMessage e = MessageCodec.encodeReply(c.request(), c.reply());
                        assertEquals(Header.REPLY_FLAGS, e.header().flags());
                        Wire w = Wire.of(e);
                        Reply d = MessageCodec.decodeReply(c.request(), w.header(), w.payload(), w.fds());
                        try {
                            assertSameMessage((Record) c.reply(), (Record) d);
                        } finally {
                            d.closeFds();
                        }
                    } finally {
                        c.reply().closeFds();
                    }
                }));
    }

    @Test
    void decodedFdsAreOwnedByTheMessageAndCloseOnce() {
        Fd original = TestFds.eventfd();
        try {
            EncodedMessage e = MessageCodec.encode(new FrontendMessage.SetLogFd(original), false);
            Wire w = Wire.of(e);
            Fd received = w.fds().getFirst();
            FrontendMessage d = MessageCodec.decode(Direction.FRONTEND, w.header(), w.payload(), w.fds());
            assertEquals(List.of(received), d.fds());
            d.closeFds();
            assertFalse(received.isOpen());
            d.closeFds(); // idempotent
            assertTrue(original.isOpen(), "the sender's fd is untouched");
        } catch (ProtocolException e) {
            throw new AssertionError(e);
        } finally {
            original.close();
        }
    }

    /** What arrives at the receiver: header parsed from the frame bytes, payload, duplicated fds. */
    record Wire(Header header, ByteBuffer payload, List<Fd> fds) {
        static Wire of(EncodedMessage e) {
            ByteBuffer frame = e.frame();
            Header h = Header.read(frame);
            return new Wire(h, frame.slice(), TestFds.dupAll(e.fds()));
        }
    }
}
