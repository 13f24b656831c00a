package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.FuseServer;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-process migration a fs daemon rehearses once listening: the nodes the guest looked up
 * on the source answer on the destination (so the whole save, transfer and load ran), and
 * nothing stays behind: no session thread, no descriptor, no file in the share.
 */
class MigrationRehearsalTest {
    @TempDir
    Path share;

    private static long openFds() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private static long sessionThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("jvhost-rehearsal-session") && t.isAlive())
                .count();
    }

    @Test
    void theDestinationGetsTheGuestsNodesAndNothingStaysBehind() throws Exception {
        for (int i = 0; i < 5; i++) Files.writeString(share.resolve("f" + i), "file " + i);
        Files.createDirectory(share.resolve("dir"));
        List<String> names = List.of("f0", "f1", "f2", "f3", "f4", "dir", "missing");
        long fds = openFds();
        try (PassthroughFs a = PassthroughFs.open(share, PassthroughConfig.defaults(), MigrationConfig.defaults());
                PassthroughFs b = PassthroughFs.open(share, PassthroughConfig.defaults(), MigrationConfig.defaults());
                FsDevice source = new FsDevice("rehearsal", 1, new FuseServer(a));
                FsDevice destination = new FsDevice("rehearsal", 1, new FuseServer(b))) {
            // Five files and the directory ("missing" is not there): each answers on the destination.
            assertEquals(6, MigrationRehearsal.run(source, destination, names, () -> false));
        }
        assertEquals(0, sessionThreads(), "the sessions ended with their drivers");
        assertEquals(fds, openFds(), "no descriptor left open");
        try (Stream<Path> s = Files.list(share)) {
            assertEquals(6, s.count(), "the share holds what it held");
        }
        assertTrue(Files.readString(share.resolve("f3")).equals("file 3"));
    }

    @Test
    void aRealMigrationEndsItBetweenStepsAndNothingStaysBehind() throws Exception {
        Files.writeString(share.resolve("f"), "f");
        long fds = openFds();
        try (PassthroughFs a = PassthroughFs.open(share, PassthroughConfig.defaults(), MigrationConfig.defaults());
                PassthroughFs b = PassthroughFs.open(share, PassthroughConfig.defaults(), MigrationConfig.defaults());
                FsDevice source = new FsDevice("rehearsal", 1, new FuseServer(a));
                FsDevice destination = new FsDevice("rehearsal", 1, new FuseServer(b))) {
            java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(
                    java.io.IOException.class,
                    () -> MigrationRehearsal.run(source, destination, List.of("f"), () -> true));
            assertTrue(e.getMessage().contains("gave way"), e.getMessage());
            assertTrue(!destination.migrating(), "it stopped before loading anything into the destination");
        }
        assertEquals(0, sessionThreads(), "the session ended with its driver");
        assertEquals(fds, openFds(), "no descriptor left open");
    }
}
