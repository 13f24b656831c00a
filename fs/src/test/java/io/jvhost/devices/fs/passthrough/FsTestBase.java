package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.RequestContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** A PassthroughFs over a fresh "share" directory inside a temp dir (which also holds things outside the share). */
abstract class FsTestBase {
    static final RequestContext ROOT = RequestContext.ROOT;
    static final long ROOT_ID = FileSystem.ROOT_ID;
    static final int O_RDONLY = 0,
            O_WRONLY = 1,
            O_RDWR = 2,
            O_CREAT = 0100,
            O_EXCL = 0200,
            O_TRUNC = 01000,
            O_APPEND = 02000;

    @TempDir
    Path tmp;

    Path share;
    PassthroughFs fs;

    @BeforeEach
    void openShare() throws Exception {
        share = Files.createDirectory(tmp.resolve("share"));
        fs = PassthroughFs.open(share, config());
    }

    PassthroughConfig config() {
        return PassthroughConfig.defaults();
    }

    @AfterEach
    void closeShare() {
        fs.close();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void fails(int errno, Executable call) {
        FsException e = assertThrows(FsException.class, call);
        assertEquals(errno, e.errno(), e.getMessage());
    }

    Entry lookup(String path) throws FsException {
        long node = ROOT_ID;
        Entry e = null;
        for (String part : path.split("/")) {
            e = fs.lookup(ROOT, node, b(part));
            node = e.nodeId();
        }
        return e;
    }

    byte[] readAll(long node, long fh, int size) throws FsException {
        MemorySink sink = new MemorySink(size);
        fs.read(ROOT, node, fh, 0, size, sink);
        return sink.bytes();
    }
}
