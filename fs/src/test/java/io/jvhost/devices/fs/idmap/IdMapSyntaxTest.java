package io.jvhost.devices.fs.idmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** virtiofsd's --translate-uid/--translate-gid syntax, every type, and what is refused. */
class IdMapSyntaxTest {
    @Test
    void everyTypeParses() {
        assertEquals(new IdMapEntry.Guest(1000, 5000, 10), IdMapSyntax.parse("guest:1000:5000:10"));
        assertEquals(new IdMapEntry.Host(5000, 1000, 10), IdMapSyntax.parse("host:5000:1000:10"));
        assertEquals(new IdMapEntry.SquashGuest(0, 65534, 100), IdMapSyntax.parse("squash-guest:0:65534:100"));
        assertEquals(new IdMapEntry.SquashHost(7000, 99, 5), IdMapSyntax.parse("squash-host:7000:99:5"));
        assertEquals(new IdMapEntry.Bidirectional(0, 100000, 65536), IdMapSyntax.parse("map:0:100000:65536"));
        assertEquals(new IdMapEntry.ForbidGuest(3000, 10), IdMapSyntax.parse("forbid-guest:3000:10"));
    }

    @Test
    void anySeparatorAndAnyCaseAsVirtiofsd() {
        assertEquals(new IdMapEntry.Guest(1, 2, 3), IdMapSyntax.parse("GUEST/1/2/3"));
        assertEquals(new IdMapEntry.Bidirectional(1, 2, 3), IdMapSyntax.parse("Map,1,2,3"));
        assertEquals("map:1:2:3", IdMapSyntax.spelling(IdMapSyntax.parse("map 1 2 3")));
    }

    @Test
    void idsUpToTheTopOfTheRange() {
        assertEquals(new IdMapEntry.Guest(4294967290L, 0, 5), IdMapSyntax.parse("guest:4294967290:0:5"));
    }

    @Test
    void badInputIsRefusedWithOneLine() {
        for (String[] c : List.of(
                new String[] {"", "expected TYPE"},
                new String[] {"guest", "expected TYPE"},
                new String[] {"user:1:2:3", "unknown type 'user'"},
                new String[] {"guest:1:2", "expected 3 numbers after 'guest', found 2"},
                new String[] {"forbid-guest:1:2:3", "expected 2 numbers after 'forbid-guest', found 3"},
                new String[] {"guest:1:2:3:4", "found 4"},
                new String[] {"guest:1:x:3", "'x' is not an id"},
                new String[] {"guest:-1:2:3", "'-1' is not an id"},
                new String[] {"guest:1::3", "'' is not an id"},
                new String[] {"guest:1/2/3", "'1/2/3' is not an id"},
                new String[] {"guest:4294967296:0:1", "'4294967296' is not an id"},
                new String[] {"guest:99999999999:0:1", "is not an id"},
                new String[] {"guest:1:2:0", "the count is 0"},
                new String[] {"guest:4294967295:0:1", "range overflow"},
                new String[] {"guest:4294967290:0:6", "range overflow"},
                new String[] {"guest:0:4294967290:6", "range overflow"},
                new String[] {"map:0:4294967295:1", "range overflow"},
                new String[] {"squash-host:4294967000:0:300", "overflow"},
                new String[] {"forbid-guest:4294967295:1", "range overflow"})) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> IdMapSyntax.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
            assertTrue(e.getMessage().startsWith("'" + c[0] + "': "), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
