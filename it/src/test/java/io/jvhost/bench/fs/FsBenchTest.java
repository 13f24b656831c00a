package io.jvhost.bench.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.testing.qemu.TestDeps;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The bench with tiny durations: every case runs on every back-end and every reply it counted
 * was verified (reads against the pattern, writes read back). No timing is asserted.
 */
class FsBenchTest {
    private static final Duration TINY = Duration.ofMillis(150);

    @Test
    void jvhostAloneRunsEveryCaseVerified() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        List<FsBenchResult> results = run("none", 0, printed);
        for (FsBenchResult r : results) {
            check(r.name(), r.jvhost());
            assertTrue(r.virtiofsd().isEmpty(), r.name());
        }
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("measuring jvhost alone"));
    }

    @Test
    void poolOfTwoRunsEveryCaseVerified() throws Exception {
        for (FsBenchResult r : run("none", 2, new ByteArrayOutputStream())) check(r.name(), r.jvhost());
    }

    @Test
    @Tag("qemu")
    void nextToVirtiofsd() throws Exception {
        Path root = TestDeps.get().depsDir().resolve("virtiofsd-root");
        TestDeps.get().virtiofsdArgv(); // fails with the install hint when virtiofsd is missing
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        for (FsBenchResult r : run(root.toString(), 0, printed)) {
            check(r.name(), r.jvhost());
            check(r.name() + " (virtiofsd)", r.virtiofsd().orElseThrow());
            assertTrue(r.ratio().isPresent(), r.name());
        }
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("| jvhost/virtiofsd |"));
    }

    private static List<FsBenchResult> run(String virtiofsd, int pool, ByteArrayOutputStream printed) throws Exception {
        FsBench.Options o =
                new FsBench.Options(TINY, virtiofsd, pool, 4, 2, List.of("-Xmx256m"), "", Confinement.NONE, List.of());
        List<FsBenchResult> results = new FsBench(o, new PrintStream(printed, true, StandardCharsets.UTF_8)).run();
        assertEquals(BenchCase.all().size(), results.size(), printed.toString(StandardCharsets.UTF_8));
        return results;
    }

    private static void check(String name, FsBenchResult.Measurement m) {
        assertTrue(m.units() > 0, name + " did nothing");
        assertEquals(m.units(), m.verifiedUnits(), name + ": not every reply was verified");
    }
}
