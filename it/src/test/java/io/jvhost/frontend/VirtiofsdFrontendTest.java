package io.jvhost.frontend;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * jvhost's front-end against the reference back-end, virtiofsd 1.13: negotiation, memory, rings,
 * and FUSE request round trips (INIT, then GETATTR of the root) through the request queue.
 */
@QemuTest
class VirtiofsdFrontendTest {
    private static final int FUSE_GETATTR = 3, FUSE_INIT = 26;
    private static final int IN_HEADER = 40, OUT_HEADER = 16;
    private static final Duration T = Duration.ofSeconds(20);

    private static ByteBuffer request(int opcode, long unique, long nodeid, int bodyLen) {
        ByteBuffer b = ByteBuffer.allocate(IN_HEADER + bodyLen).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(IN_HEADER + bodyLen)
                .putInt(opcode)
                .putLong(unique)
                .putLong(nodeid)
                .putInt(0)
                .putInt(0)
                .putInt(1)
                .putShort((short) 0)
                .putShort((short) 0);
        return b;
    }

    private static void negotiateAndInit(GuestDriver d) throws Exception {
        ByteBuffer init = request(FUSE_INIT, 1, 0, 64);
        init.putInt(7).putInt(38).putInt(128 * 1024).putInt(0); // major, minor, max_readahead, flags
        byte[] reply = d.request(1, List.of(init.array()), OUT_HEADER + 64, T);
        ByteBuffer r = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(reply.length, r.getInt(), "fuse_out_header.len is the used length");
        assertEquals(0, r.getInt(), "FUSE_INIT error");
        assertEquals(1, r.getLong(), "unique echoed");
        assertEquals(7, r.getInt(), "FUSE major");
        assertTrue(r.getInt() >= 31, "FUSE minor");
    }

    @Test
    void fuseInitAndGetattrRoundTripThroughVirtiofsd(TestRun run) throws Exception {
        for (boolean memTable : new boolean[] {false, true}) {
            Virtiofsd fsd = Virtiofsd.builder(run, "virtiofsd-" + (memTable ? "memtable" : "addmemreg"))
                    .sharedDir(run.dir("shared"))
                    .start();
            try (GuestDriver d = GuestDriver.connect(
                    fsd.socket(), GuestDriver.Options.defaults(2).withMemTable(memTable))) {
                assertTrue(VirtioFeatures.has(d.features(), VirtioFeatures.VERSION_1));
                assertTrue(ProtocolFeature.REPLY_ACK.isIn(d.protocolFeatures()));
                // virtiofsd offers CONFIGURE_MEM_SLOTS: the model then uses ADD_MEM_REG unless told otherwise.
                assertTrue(ProtocolFeature.CONFIGURE_MEM_SLOTS.isIn(d.protocolFeatures()));
                negotiateAndInit(d);

                ByteBuffer getattr = request(FUSE_GETATTR, 2, 1, 16);
                byte[] reply = d.request(1, List.of(getattr.array()), OUT_HEADER + 104, T);
                ByteBuffer r = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(OUT_HEADER + 104, r.getInt());
                assertEquals(0, r.getInt(), "GETATTR error");
                assertEquals(2, r.getLong());
                int mode = r.getInt(OUT_HEADER + 16 + 60); // fuse_attr.mode
                assertEquals(0040000, mode & 0170000, "the shared root is a directory");

                int[] bases = d.stopRings();
                assertEquals(0, bases[0], "nothing was posted on the hiprio queue");
                assertEquals(2, bases[1], "two requests were consumed on the request queue");
            }
            assertTrue(fsd.process().awaitExit(Duration.ofSeconds(10)), "virtiofsd exits once its front-end leaves");
        }
    }
}
