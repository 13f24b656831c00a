package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtiofsd's options over what the guest is offered and how its opens reach the host:
 * READDIRPLUS (not with cache never, or --no-readdirplus), FUSE_DIRECT_IO_ALLOW_MMAP
 * (--allow-mmap), O_DIRECT and O_NOATIME cleared unless --allow-direct-io / --preserve-noatime.
 */
class ServedOptionsTest {
    private static final long DO_READDIRPLUS = 1L << 13, READDIRPLUS_AUTO = 1L << 14, ALLOW_MMAP = 1L << 36;

    @TempDir
    Path share;

    private static PassthroughConfig config(
            CachePolicy cache, boolean readdirplus, boolean mmap, boolean directIo, boolean noatime) {
        return new PassthroughConfig(
                cache, true, true, false, InodeFileHandles.PREFER, readdirplus, mmap, directIo, noatime, false);
    }

    @Test
    void readdirplusIsOfferedAsVirtiofsdOffersIt() throws IOException {
        for (CachePolicy p : CachePolicy.values()) {
            long offered;
            try (PassthroughFs fs = PassthroughFs.open(share, new PassthroughConfig(p, true, true))) {
                offered = fs.supportedInitFlags();
            }
            long plus = DO_READDIRPLUS | READDIRPLUS_AUTO;
            assertEquals(p == CachePolicy.NEVER ? 0 : plus, offered & plus, p + ": READDIRPLUS as virtiofsd");
        }
        try (PassthroughFs fs = PassthroughFs.open(share, config(CachePolicy.AUTO, false, false, false, false))) {
            assertEquals(0, fs.supportedInitFlags() & (DO_READDIRPLUS | READDIRPLUS_AUTO), "--no-readdirplus");
            assertEquals(0, fs.supportedInitFlags() & ALLOW_MMAP);
        }
        try (PassthroughFs fs = PassthroughFs.open(share, config(CachePolicy.METADATA, true, true, false, false))) {
            assertEquals(ALLOW_MMAP, fs.supportedInitFlags() & ALLOW_MMAP, "--allow-mmap");
        }
    }

    @Test
    void oDirectAndONoatimeAreClearedUnlessAllowed() throws Exception {
        Files.writeString(share.resolve("f"), "data");
        int asked = Libc.O_RDONLY | Libc.O_DIRECT | Libc.O_NOATIME;
        assertEquals(
                0,
                hostFlagsOfOpen(config(CachePolicy.AUTO, true, false, false, false), asked)
                        & (Libc.O_DIRECT | Libc.O_NOATIME));
        assertEquals(
                Libc.O_DIRECT | Libc.O_NOATIME,
                hostFlagsOfOpen(config(CachePolicy.AUTO, true, false, true, true), asked)
                        & (Libc.O_DIRECT | Libc.O_NOATIME));
    }

    /** The flags (from /proc/self/fdinfo) of the descriptor an OPEN of "f" with {@code flags} made on the host. */
    private int hostFlagsOfOpen(PassthroughConfig config, int flags) throws Exception {
        try (PassthroughFs fs = PassthroughFs.open(share, config)) {
            long node = fs.lookup(FsTestBase.ROOT, FsTestBase.ROOT_ID, "f".getBytes())
                    .nodeId();
            List<Integer> before = ioDescriptorsOf(share.resolve("f"));
            fs.open(FsTestBase.ROOT, node, flags);
            List<Integer> after = ioDescriptorsOf(share.resolve("f"));
            after.removeAll(before);
            assertEquals(1, after.size(), "one new descriptor of f: " + after);
            return fdinfoFlags(after.getFirst());
        }
    }

    /** This process's descriptors of {@code file} that are not O_PATH. */
    private static List<Integer> ioDescriptorsOf(Path file) throws IOException {
        List<Integer> fds = new ArrayList<>();
        try (Stream<Path> all = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) all::iterator) {
                try {
                    if (!Files.readSymbolicLink(fd).equals(file.toRealPath())) continue;
                    int n = Integer.parseInt(fd.getFileName().toString());
                    if ((fdinfoFlags(n) & Libc.O_PATH) == 0) fds.add(n);
                } catch (IOException gone) {
                    // closed meanwhile (the listing's own descriptor)
                }
            }
        }
        return fds;
    }

    private static int fdinfoFlags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd)))
            if (line.startsWith("flags:"))
                return Integer.parseInt(line.substring(6).trim(), 8);
        throw new AssertionError("no flags in fdinfo of " + fd);
    }

    @Test
    void theDefaultsAreVirtiofsds() {
        PassthroughConfig c = new PassthroughConfig(CachePolicy.AUTO, true, true);
        assertTrue(c.readdirplus());
        assertEquals(
                List.of(false, false, false, false),
                List.of(c.allowMmap(), c.allowDirectIo(), c.preserveNoatime(), c.readOnly()));
        assertTrue(!new PassthroughConfig(CachePolicy.NEVER, true, true).readdirplus());
    }
}
