package io.jvhost.devices.fs.idmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Both directions of a translation, as virtiofsd's soft_idmap: independent, identity where unmapped. */
class IdTranslationTest {
    private static IdTranslation of(String... entries) {
        return IdTranslation.of(Arrays.stream(entries).map(IdMapSyntax::parse).toList());
    }

    @Test
    void mapGoesBothWaysAndLeavesTheRestAlone() throws Exception {
        IdTranslation t = of("map:1000:5000:10");
        assertEquals(5000, t.toHost(1000));
        assertEquals(5009, t.toHost(1009));
        assertEquals(1010, t.toHost(1010), "just past the range");
        assertEquals(999, t.toHost(999));
        assertEquals(1003, t.toGuest(5003));
        assertEquals(1000, t.toGuest(1000), "a host id the map does not cover");
        assertEquals(5010, t.toGuest(5010));
    }

    @Test
    void guestAndHostEntriesAreOneWay() throws Exception {
        IdTranslation guest = of("guest:1000:5000:10");
        assertEquals(5003, guest.toHost(1003));
        assertEquals(5003, guest.toGuest(5003), "host to guest is untouched");
        IdTranslation host = of("host:5000:1000:10");
        assertEquals(1003, host.toGuest(5003));
        assertEquals(1003, host.toHost(1003), "guest to host is untouched");
    }

    @Test
    void squashesMapARangeOntoOneId() throws Exception {
        IdTranslation t = of("squash-guest:2000:6000:100", "squash-host:7000:99:10");
        assertEquals(6000, t.toHost(2000));
        assertEquals(6000, t.toHost(2099));
        assertEquals(2100, t.toHost(2100));
        assertEquals(99, t.toGuest(7000));
        assertEquals(99, t.toGuest(7009));
        assertEquals(7010, t.toGuest(7010));
        assertEquals(6000, t.toGuest(6000), "squash-guest says nothing of host ids");
    }

    @Test
    void forbiddenGuestIdsThrow() throws Exception {
        IdTranslation t = of("forbid-guest:3000:10", "map:0:100000:1000");
        assertThrows(IdTranslation.ForbiddenId.class, () -> t.toHost(3000));
        assertThrows(IdTranslation.ForbiddenId.class, () -> t.toHost(3009));
        assertEquals(3010, t.toHost(3010));
        assertEquals(2999, t.toHost(2999));
        assertEquals(100005, t.toHost(5));
        assertEquals(3005, t.toGuest(3005), "no host id is forbidden");
    }

    @Test
    void idsAboveTwoToTheThirtyOneAreUnsigned() throws Exception {
        IdTranslation t = of("map:4294967200:10:20");
        assertEquals(15, t.toHost((int) 4294967205L));
        assertEquals((int) 4294967205L, t.toGuest(15));
        assertEquals(-1, t.toHost(-1), "(uid_t) -1 is never covered");
    }

    @Test
    void manyEntriesAreSearchedRight() throws Exception {
        String[] entries = new String[50];
        for (int i = 0; i < 50; i++) entries[i] = "guest:" + (i * 100) + ":" + (100000 + i * 1000) + ":10";
        List<String> shuffled = new java.util.ArrayList<>(List.of(entries));
        java.util.Collections.shuffle(shuffled, new java.util.Random(7));
        IdTranslation t = of(shuffled.toArray(String[]::new));
        for (int i = 0; i < 50; i++) {
            assertEquals(100000 + i * 1000 + 9, t.toHost(i * 100 + 9));
            assertEquals(i * 100 + 10, t.toHost(i * 100 + 10));
        }
    }

    @Test
    void overlappingEntriesOfOneDirectionAreRefused() {
        for (String[] c : List.of(
                new String[] {"guest:0:100:10", "guest:9:500:1"},
                new String[] {"map:0:100:10", "squash-guest:5:0:1"},
                new String[] {"map:0:100:10", "host:105:0:1"},
                new String[] {"forbid-guest:10:10", "guest:0:0:11"})) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> of(c), String.join(" ", c));
            assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
        }
        // Opposite directions may cover the same numbers.
        of("guest:0:100:10", "host:0:100:10");
        of("guest:0:100:10", "guest:10:100:10");
    }

    @Test
    void noEntriesIsTheIdentity() {
        assertTrue(IdTranslation.of(List.of()).isIdentity());
    }
}
