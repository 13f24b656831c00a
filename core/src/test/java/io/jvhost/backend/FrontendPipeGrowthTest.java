package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.FdStreams;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Pipe;
import io.jvhost.protocol.DeviceStateDirection;
import io.jvhost.protocol.DeviceStatePhase;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU hands the back-end a pipe of the kernel's default 64 KiB: the back-end grows it (to
 * {@link DeviceStateOptions#pipeCapacity()}) before it writes, so a state of a few hundred KiB is
 * written in one go rather than in as many turns of the two processes, and arrives intact.
 */
class FrontendPipeGrowthTest {
    private static final int DEFAULT_PIPE = 64 << 10;

    @TempDir
    Path dir;

    @Test
    void theFrontEndsSmallPipeIsGrownBeforeTheSaveAndTheStateArrivesWhole() throws Exception {
        byte[] state = new byte[600 << 10];
        new Random(7).nextBytes(state);
        StatefulDevice device = new StateTransferErrorTest.Failing(AssertionError::new) {
            @Override
            public SavedState captureState() {
                return out -> out.write(state);
            }
        };
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("f.sock"), device);
                FrontendClient c = GuestDriver.connectDevice(s.socket(), 1)) {
            Pipe p = Pipe.create(DEFAULT_PIPE);
            assertEquals(DEFAULT_PIPE, Libc.fcntl(p.readEnd().value(), Libc.F_GETPIPE_SZ, "F_GETPIPE_SZ"));
            c.setDeviceStateFd(DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, p.writeEnd());
            p.writeEnd().close();
            int grown = Libc.fcntl(p.readEnd().value(), Libc.F_GETPIPE_SZ, "F_GETPIPE_SZ");
            assertTrue(
                    grown >= DeviceStateOptions.defaults().pipeCapacity(),
                    "the pipe holds " + grown + " bytes, still the front-end's size");
            try (InputStream r = FdStreams.input(p.readEnd(), true)) {
                assertArrayEquals(state, r.readAllBytes());
            }
            c.checkDeviceState();
        }
    }
}
