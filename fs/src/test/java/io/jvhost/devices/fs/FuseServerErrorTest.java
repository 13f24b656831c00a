package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvhost.frontend.GuestDriver;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A file system operation that throws StackOverflowError or OutOfMemoryError (issue 14,
 * deliverable 2; rows 4 and 5 were ways to get one): the request is answered -EIO and the queue
 * goes on, with and without a thread pool.
 */
class FuseServerErrorTest {
    private static final int EIO = 5;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}, pool {1}")
    @CsvSource({"StackOverflowError, 0", "StackOverflowError, 2", "OutOfMemoryError, 0", "OutOfMemoryError, 2"})
    void anErrorInTheFileSystemIsAnsweredEio(String error, int poolSize) throws Exception {
        MemoryFs fs = FuseHarness.defaultFs();
        FsDevice device = new FsDevice("myfs", 1, new FuseServer(fs), poolSize);
        try (FuseHarness h = FuseHarness.start(dir, fs, device, GuestDriver.Options.defaults(2))) {
            h.init().ok();
            FuseHarness.Args getattr = FuseHarness.args().u32(0).u32(0).u64(0);
            fs.errorNext = error.equals("StackOverflowError") ? new StackOverflowError() : new OutOfMemoryError("test");
            FuseHarness.Reply failed = h.call(FuseHarness.GETATTR, 1, getattr, FuseHarness.OUT_HEADER + 104);
            assertEquals(-EIO, failed.error(), "answered -EIO");
            h.call(FuseHarness.GETATTR, 1, getattr, FuseHarness.OUT_HEADER + 104)
                    .ok();
            assertEquals(1, device.server().unexpectedFailures());
        }
    }
}
