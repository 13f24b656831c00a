package io.jvhost.bench.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** bench-startup's footprint columns come from the lines the kernel writes in /proc/PID/status. */
class ProcStatusTest {
    @Test
    void residentSetWithItsAnonymousAndFileParts() throws IOException {
        List<String> status = List.of(
                "Name:\tjava",
                "VmRSS:\t   85744 kB",
                "RssAnon:\t   59756 kB",
                "RssFile:\t   25988 kB",
                "RssShmem:\t       0 kB",
                "Threads:\t15");
        assertEquals(new ProcStatus(85744, 59756, 25988, 15), ProcStatus.parse(status, 1));
    }

    @Test
    void aStatusWithoutThePartsIsAnError() {
        assertThrows(IOException.class, () -> ProcStatus.parse(List.of("VmRSS:\t 1 kB", "Threads:\t1"), 1));
    }
}
