package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.frontend.FrontendClient;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.DeviceStateDirection;
import io.jvhost.protocol.DeviceStatePhase;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What front-ends other than QEMU do, which QEMU never does (issue 12, peers other than QEMU):
 * Cloud Hypervisor restores a VM with the protocol features it saved, so it sends
 * SET_PROTOCOL_FEATURES without GET_FEATURES or GET_PROTOCOL_FEATURES and then waits for
 * REPLY_ACK acks (the hang of cloud-hypervisor#6931, fixed in rust-vmm/vhost#290); and it hands
 * the back-end one end of a socket pair as the device-state channel, not a pipe.
 */
class FrontEndsOtherThanQemuTest {
    private static final Duration T = Duration.ofSeconds(10);
    private static final byte[] STATE = "the device's state, moved over a socket pair".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private BackgroundServer served;

    @AfterEach
    void stop() throws IOException {
        if (served != null) served.close();
    }

    @Test
    void repliesAckWhenProtocolFeaturesArriveWithoutBeingAskedFor() throws Exception {
        served = BackgroundServer.start(dir.resolve("ack.sock"), new RawBlobDevice(new byte[0]));
        try (FrontendClient client = FrontendClient.connect(served.socket())) {
            // No GET_FEATURES, no GET_PROTOCOL_FEATURES: the features a restored VMM remembers.
            client.setProtocolFeatures(ProtocolFeature.maskOf(EnumSet.of(ProtocolFeature.REPLY_ACK)));
            assertTimeoutPreemptively(T, () -> {
                client.setOwner(); // waits for the ack: hangs if the back-end does not send one
                client.setFeatures(VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.PROTOCOL_FEATURES));
            });
        }
    }

    @Test
    void savesIntoASocketPair() throws Exception {
        served = BackgroundServer.start(dir.resolve("save.sock"), new RawBlobDevice(STATE));
        try (FrontendClient client = stateSession()) {
            UnixSocket[] pair = UnixSocket.pair();
            try (UnixSocket ours = pair[0]) {
                Optional<?> theirs;
                try (UnixSocket handedOver = pair[1]) {
                    theirs = client.setDeviceStateFd(
                            DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, handedOver.fd());
                }
                assertTrue(theirs.isEmpty(), "the back-end writes into the channel it was given");
                assertArrayEquals(STATE, readToEof(ours));
            }
            client.checkDeviceState();
        }
    }

    @Test
    void loadsFromASocketPair() throws Exception {
        RawBlobDevice device = new RawBlobDevice(new byte[0]);
        served = BackgroundServer.start(dir.resolve("load.sock"), device);
        try (FrontendClient client = stateSession()) {
            UnixSocket[] pair = UnixSocket.pair();
            try (UnixSocket ours = pair[0]) {
                try (UnixSocket handedOver = pair[1]) {
                    client.setDeviceStateFd(DeviceStateDirection.LOAD, DeviceStatePhase.STOPPED, handedOver.fd());
                }
                ours.sendMsg(ByteBuffer.wrap(STATE), java.util.List.of());
            } // closed: the back-end reads EOF, the end of the state
            assertTimeoutPreemptively(T, client::checkDeviceState);
        }
        assertArrayEquals(STATE, device.blob(), "the state loaded from the socket pair is the device's");
    }

    private FrontendClient stateSession() throws IOException {
        FrontendClient client = FrontendClient.connect(served.socket());
        long offered = client.getProtocolFeatures();
        assertTrue(ProtocolFeature.DEVICE_STATE.isIn(offered), "DEVICE_STATE offered");
        client.setProtocolFeatures(ProtocolFeature.maskOf(EnumSet.of(ProtocolFeature.DEVICE_STATE)));
        client.setOwner();
        return client;
    }

    private static byte[] readToEof(UnixSocket s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (true) {
            buf.clear();
            UnixSocket.Received r = s.recvMsg(buf, 0);
            if (r.bytes() <= 0) return out.toByteArray();
            out.write(buf.array(), 0, r.bytes());
        }
    }
}
