package io.jvhost.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import io.jvhost.nativeio.Fd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated frames: every decode either succeeds or throws ProtocolException (never
 * anything else), and no fd is leaked either way.
 */
class FuzzTest {
    private static final int ITERATIONS = 10_000;

    /** A frame to feed the decoders: raw header fields, payload bytes, number of fds to attach. */
    private record Frame(Header header, byte[] payload, int fdCount) {}

    /** A valid frame and the decoder it belongs to (0 front-end, 1 back-end, 2 reply to front-end request). */
    private record Seed(EncodedMessage message, int direction) {}

    @Test
    void randomAndMutatedFramesNeverEscapeAsOtherExceptionsOrLeakFds() {
        Random random = new Random(0x5eed_1e55L);
        List<Seed> seeds = seedFrames();
        long openBefore = TestFds.openCount();
        int accepted = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            int direction = random.nextInt(4);
            Frame f;
            if (i % 2 == 0) {
                f = randomFrame(random);
            } else {
                Seed seed = seeds.get(random.nextInt(seeds.size()));
                f = mutate(seed.message(), random);
                if (random.nextInt(5) != 0) direction = seed.direction();
            }
            accepted += decodeOnce(f, direction, random) ? 1 : 0;
        }
        assertEquals(openBefore, TestFds.openCount(), "file descriptors leaked");
        // The mutated half must reach the typed decoders, not just bounce off the header checks.
        if (accepted < ITERATIONS / 8)
            fail("only " + accepted + " frames decoded; the fuzzer is not reaching the payload decoders");
    }

    private static List<Seed> seedFrames() {
        List<Seed> seeds = new ArrayList<>();
        for (FrontendMessage m : Samples.frontend()) {
            seeds.add(new Seed(MessageCodec.encode(m, false), 0));
            m.closeFds();
        }
        for (BackendMessage m : Samples.backend()) {
            seeds.add(new Seed(MessageCodec.encode(m, false), 1));
            m.closeFds();
        }
        for (Samples.FrontendReplyCase c : Samples.frontendReplies()) {
            seeds.add(new Seed(MessageCodec.encodeReply(c.request(), c.reply()), 2));
            c.reply().closeFds();
        }
        return seeds;
    }

    private static Frame randomFrame(Random random) {
        int request = random.nextInt(10) == 0 ? random.nextInt() : random.nextInt(48) - 1;
        int[] flagChoices = {0x1, 0x1, 0x9, 0x5, 0x0, 0x2, 0xd, random.nextInt()};
        int flags = flagChoices[random.nextInt(flagChoices.length)];
        int size = switch (random.nextInt(4)) {
            case 0 -> 8 * random.nextInt(6);
            case 1 -> random.nextInt(300);
            case 2 -> random.nextInt(Header.MAX_PAYLOAD + 2);
            default -> random.nextInt();
        };
        int actual = (size >= 0 && size <= Header.MAX_PAYLOAD && random.nextInt(8) != 0) ? size : random.nextInt(64);
        byte[] payload = new byte[actual];
        random.nextBytes(payload);
        return new Frame(new Header(request, flags, size), payload, fdCount(random));
    }

    private static Frame mutate(EncodedMessage seed, Random random) {
        Header h = seed.header();
        byte[] payload = seed.payload();
        int fdCount = seed.fds().size();
        switch (random.nextInt(6)) {
            case 0 -> { // flip some payload bytes
                for (int k = 0; k < 1 + random.nextInt(3) && payload.length > 0; k++) {
                    payload[random.nextInt(payload.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> fdCount = fdCount(random);
            case 2 -> { // change the size, consistently or not
                int newSize = Math.max(0, payload.length + random.nextInt(17) - 8);
                payload = Arrays.copyOf(payload, newSize);
                h = new Header(h.request(), h.flags(), random.nextBoolean() ? newSize : h.size());
            }
            case 3 -> h = new Header(h.request() + random.nextInt(3) - 1, h.flags(), h.size());
            case 4 -> h = new Header(h.request(), h.flags() ^ (1 << random.nextInt(5)), h.size());
            default -> { // set a random u64-aligned word to an extreme
                if (payload.length >= 8) {
                    int at = 8 * random.nextInt(payload.length / 8);
                    long v = switch (random.nextInt(4)) {
                        case 0 -> -1L;
                        case 1 -> 0L;
                        case 2 -> 0x100L;
                        default -> random.nextLong();
                    };
                    ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder()).putLong(at, v);
                }
            }
        }
        return new Frame(h, payload, fdCount);
    }

    private static int fdCount(Random random) {
        return switch (random.nextInt(6)) {
            case 0, 1, 2 -> 0;
            case 3, 4 -> 1;
            default -> random.nextInt(10);
        };
    }

    /** Decodes {@code f} one way; returns whether it was accepted. Asserts fds end up owned or closed. */
    private static boolean decodeOnce(Frame f, int direction, Random random) {
        List<Fd> fds = TestFds.eventfds(f.fdCount());
        ByteBuffer payload = ByteBuffer.wrap(f.payload());
        CarriesFds result = null;
        try {
            result = switch (direction) {
                case 0 -> MessageCodec.decode(Direction.FRONTEND, f.header(), payload, fds);
                case 1 -> MessageCodec.decode(Direction.BACKEND, f.header(), payload, fds);
                case 2 ->
                    MessageCodec.decodeReply(
                            Direction.FRONTEND
                                    .find(f.header().request())
                                    .orElse(FrontendRequest.values()[random.nextInt(FrontendRequest.values().length)]),
                            f.header(),
                            payload,
                            fds);
                default ->
                    MessageCodec.decodeReply(
                            Direction.BACKEND.find(f.header().request()).orElse(BackendRequest.SHARED_OBJECT_LOOKUP),
                            f.header(),
                            payload,
                            fds);
            };
        } catch (ProtocolException expected) {
            for (Fd fd : fds) assertFalse(fd.isOpen(), "fd left open after " + expected.getMessage());
            return false;
        } catch (RuntimeException e) {
            fds.forEach(Fd::close);
            throw new AssertionError("decoding " + f.header() + " as direction " + direction + " threw " + e, e);
        }
        Set<Fd> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        kept.addAll(result.fds());
        for (Fd fd : fds) {
            if (!kept.contains(fd)) assertFalse(fd.isOpen(), "unclaimed fd left open for " + result);
        }
        result.closeFds();
        return true;
    }
}
