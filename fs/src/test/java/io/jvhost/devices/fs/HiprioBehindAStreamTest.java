package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.FORGET;
import static io.jvhost.devices.fs.FuseHarness.LOOKUP;
import static io.jvhost.devices.fs.FuseHarness.OUT_HEADER;
import static io.jvhost.devices.fs.FuseHarness.T;
import static io.jvhost.devices.fs.FuseHarness.args;
import static io.jvhost.devices.fs.FuseHarness.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.FuseHarness.Reply;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FORGETs on the hiprio queue while a stream of LOOKUPs fills the request queue, as a guest that
 * drops its dentry cache under load sends them: every LOOKUP is answered, every FORGET completes
 * without a reply, and the counts add up exactly (each FORGET applied once, none lost between the
 * two queues), with requests handled on the ring's worker or on a pool. Pins what issue 11's
 * request-path work (batching, wake-ups, the pool's hand-off) could break.
 */
class HiprioBehindAStreamTest {
    private static final int ENTRY = OUT_HEADER + 128, WAVE = 96;

    @org.junit.jupiter.api.io.TempDir
    Path dir;

    @ParameterizedTest(name = "thread pool {0}")
    @ValueSource(ints = {0, 2})
    void forgetsBehindAStreamOfLookupsAddUp(int pool) throws Exception {
        MemoryFs fs = FuseHarness.defaultFs();
        long id = fs.addFile("f", new byte[0]);
        FsDevice device = new FsDevice("myfs", 1, new FuseServer(fs), pool);
        try (FuseHarness h = FuseHarness.start(dir, fs, device, GuestDriver.Options.defaults(2))) {
            h.init().ok();
            streamOfLookups(h, id, WAVE, 0); // the counts the FORGETs below give back
            assertEquals(WAVE, fs.lookups(id));
            streamOfLookups(h, id, WAVE, WAVE);
            assertEquals(WAVE, fs.lookups(id), "one lookup per LOOKUP answered, one forgotten per FORGET");
        }
    }

    /** Posts {@code lookups} LOOKUPs of {@code id} on queue 1 and {@code forgets} FORGET(1) on queue 0, interleaved. */
    private static void streamOfLookups(FuseHarness h, long id, int lookups, int forgets) throws Exception {
        GuestDriver d = h.driver;
        Map<Integer, Submission> pendingLookups = new HashMap<>(), pendingForgets = new HashMap<>();
        for (int i = 0; i < Math.max(lookups, forgets); i++) {
            if (i < lookups) {
                Submission s = d.post(
                        1,
                        List.of(request(
                                LOOKUP, h.nextUnique(), 1, args().name("f").build())),
                        ENTRY);
                pendingLookups.put(s.head(), s);
            }
            if (i < forgets) {
                Submission s = d.post(
                        0,
                        List.of(request(
                                FORGET, h.nextUnique(), id, args().u64(1).build())));
                pendingForgets.put(s.head(), s);
            }
        }
        d.kickIfNeeded(0);
        d.kickIfNeeded(1);
        while (!pendingLookups.isEmpty()) {
            UsedElement e = d.awaitUsed(1, T);
            Submission s = pendingLookups.remove(e.head());
            assertTrue(s != null, "a completion for a chain not in flight: head " + e.head());
            Reply r = Reply.parse(s.readWritten(e.length()), e.length());
            r.ok();
            assertEquals(id, FuseHarness.nodeId(r));
            s.close();
        }
        while (!pendingForgets.isEmpty()) {
            UsedElement e = d.awaitUsed(0, T);
            Submission s = pendingForgets.remove(e.head());
            assertTrue(s != null, "a hiprio completion for a chain not in flight: head " + e.head());
            assertEquals(0, e.length(), "FORGET has no reply");
            s.close();
        }
    }
}
