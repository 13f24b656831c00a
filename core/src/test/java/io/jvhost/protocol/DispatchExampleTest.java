package io.jvhost.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.FrontendMessage.*;
import io.jvhost.protocol.Reply.U64;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * How a back-end dispatches (an exhaustive switch, no default: adding a message type breaks the
 * build here) and how a front-end awaits replies, over a socketpair.
 */
class DispatchExampleTest {
    private static final long FEATURES =
            VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.PROTOCOL_FEATURES);
    private static final long PROTOCOL = ProtocolFeature.REPLY_ACK.mask() | ProtocolFeature.DEVICE_STATE.mask();

    /** A toy back-end: the reply payload for requests that have one, else an ack. */
    private static final class ToyBackend {
        long protocolFeatures;

        Reply handle(FrontendMessage message) {
            return switch (message) {
                case GetFeatures m -> new U64(FEATURES);
                case GetProtocolFeatures m -> new U64(PROTOCOL);
                case SetProtocolFeatures m -> {
                    protocolFeatures = m.features() & PROTOCOL;
                    yield U64.SUCCESS;
                }
                case GetVringBase m -> new Reply.VringState(m.index(), 42);
                case GetQueueNum m -> new U64(1);
                case GetMaxMemSlots m -> new U64(32);
                case GetStatus m -> new U64(0);
                case GetConfig m -> new Reply.ConfigFailure();
                case GetInflightFd m -> new Reply.Inflight(0, 0, m.numQueues(), m.queueSize(), Optional.empty());
                case SetDeviceStateFd m -> {
                    m.closeFds();
                    yield m.knownPhase().isPresent() ? Reply.DeviceStateFd.accepted() : Reply.DeviceStateFd.refused(1);
                }
                case CheckDeviceState m -> U64.SUCCESS;
                case GetSharedObject m -> new Reply.FdOnly(Optional.empty());
                case GetShmemConfig m -> new Reply.ShmemConfig(0, java.util.List.of());
                case CreateCryptoSession m -> new Reply.CryptoSession(m.session());
                case PostcopyAdvise m -> new Reply.FdOnly(Optional.empty());
                case SetFeatures m -> U64.SUCCESS;
                case SetOwner m -> U64.SUCCESS;
                case ResetOwner m -> U64.SUCCESS;
                case SetMemTable m -> close(m);
                case SetLogBase m -> close(m);
                case SetLogFd m -> close(m);
                case SetVringNum m -> U64.SUCCESS;
                case SetVringAddr m -> U64.SUCCESS;
                case SetVringBase m -> U64.SUCCESS;
                case SetVringKick m -> close(m);
                case SetVringCall m -> close(m);
                case SetVringErr m -> close(m);
                case SetVringEnable m -> U64.SUCCESS;
                case SendRarp m -> U64.FAILURE;
                case NetSetMtu m -> U64.FAILURE;
                case SetBackendReqFd m -> close(m);
                case IotlbMsg m -> U64.FAILURE;
                case SetVringEndian m -> U64.FAILURE;
                case SetConfig m -> U64.FAILURE;
                case CloseCryptoSession m -> U64.FAILURE;
                case PostcopyListen m -> U64.FAILURE;
                case PostcopyEnd m -> U64.FAILURE;
                case SetInflightFd m -> close(m);
                case GpuSetSocket m -> close(m);
                case ResetDevice m -> U64.SUCCESS;
                case VringKick m -> U64.SUCCESS;
                case AddMemReg m -> close(m);
                case RemMemReg m -> U64.SUCCESS;
                case SetStatus m -> U64.SUCCESS;
            };
        }

        private static U64 close(CarriesFds m) {
            m.closeFds();
            return U64.SUCCESS;
        }

        void serve(Connection<FrontendRequest, FrontendMessage> c) throws Exception {
            try {
                while (true) {
                    ReceivedMessage<FrontendMessage> in = c.receive();
                    FrontendRequest request = in.message().request();
                    Reply reply = handle(in.message());
                    if (request.replyRule().replyExpected(in.needsReply(), protocolFeatures, false)) {
                        c.sendReply(request, reply);
                    } else {
                        reply.closeFds();
                    }
                }
            } catch (PeerClosedException done) {
                // the front-end hung up: end of session
            }
        }
    }

    @Test
    void frontendNegotiatesWithAToyBackend() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (var frontend = new Connection<>(pair[0], Direction.FRONTEND);
                var backendSide = new Connection<>(pair[1], Direction.FRONTEND)) {
            CompletableFuture<Void> backend = CompletableFuture.runAsync(() -> {
                try {
                    new ToyBackend().serve(backendSide);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                U64 features = assertInstanceOf(U64.class, frontend.call(new GetFeatures(), false));
                assertEquals(FEATURES, features.value());
                long offered = ((U64) frontend.call(new GetProtocolFeatures(), false)).value();
                // REPLY_ACK is about to be negotiated, so NEED_REPLY is safe to ask for.
                assertEquals(U64.SUCCESS, frontend.call(new SetProtocolFeatures(offered), true));
                frontend.send(new SetVringNum(0, 256), false); // no reply expected, none sent
                assertEquals(new Reply.VringState(0, 42), frontend.call(new GetVringBase(0), false));
                assertEquals(U64.SUCCESS, frontend.call(new SetVringNum(0, 128), true));
                assertEquals(U64.SUCCESS, frontend.call(new CheckDeviceState(), false));
                frontend.shutdown();
                backend.get();
            });
        }
    }
}
