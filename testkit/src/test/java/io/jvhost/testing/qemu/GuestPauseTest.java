package io.jvhost.testing.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class GuestPauseTest {
    private static final String SOURCE = """
            5329@1796200375.419782:migrate_set_state new state setup
            5329@1796200370.000001:vmstate_downtime_checkpoint src-downtime-start
            5329@1796200377.377459:vmstate_downtime_checkpoint src-downtime-start
            5329@1796200377.382389:vmstate_downtime_checkpoint src-vm-stopped
            5329@1796200377.437293:vmstate_downtime_checkpoint src-downtime-end
            """;
    private static final String DESTINATION = """
            5322@1796200377.625225:vmstate_downtime_checkpoint dst-precopy-loadvm-completed
            5322@1796200377.656586:vmstate_downtime_checkpoint dst-precopy-bh-vm-started
            """;

    @Test
    void readsTheLastCheckpointOfItsKindToTheMicrosecond() {
        Instant stopped = GuestPause.last(SOURCE, GuestPause.STOPPED);
        Instant started = GuestPause.last(DESTINATION, GuestPause.STARTED);
        assertEquals(Instant.ofEpochSecond(1796200377L, 377_459_000), stopped);
        assertEquals(Duration.ofNanos(279_127_000), Duration.between(stopped, started));
    }

    @Test
    void aTraceWithoutTheCheckpointHasNone() {
        assertNull(GuestPause.last(SOURCE, GuestPause.STARTED));
        assertNull(GuestPause.last("5322@1796200377.656586:vhost_user_write req:42 flags:0x1\n", GuestPause.STARTED));
    }
}
