package io.jvhost.cli;

import io.jvhost.nativeio.FileLimits;
import io.jvhost.nativeio.FileLimits.Limit;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.ProcFiles;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --rlimit-nofile N}, as virtiofsd sets it: N (soft and hard), 0 to leave the limit alone,
 * by default min(1,000,000, /proc/sys/fs/nr_open) unless the soft limit is already that high,
 * falling back to the hard limit when the default cannot be set (no CAP_SYS_RESOURCE). Set before
 * the privileges are dropped: the limit survives the restart that drops them.
 */
final class OpenFileLimit {
    private static final Logger LOG = LoggerFactory.getLogger(OpenFileLimit.class);
    static final long DEFAULT = 1_000_000;

    private OpenFileLimit() {}

    /** The limit to ask for, or -1 to leave the current one; {@code requested} null means the default. */
    static long target(Long requested, Limit now, long nrOpen) throws IOException {
        long target;
        if (requested != null) {
            if (requested == 0) return -1;
            target = requested;
        } else {
            if (now.soft() >= DEFAULT) return -1;
            target = Math.min(DEFAULT, nrOpen);
        }
        if (target > nrOpen)
            throw new IOException("--rlimit-nofile " + target + ": it cannot be increased above " + nrOpen);
        return target;
    }

    /** Applies {@code requested} (null: the default) and returns the limit now in force. */
    static long apply(Long requested) throws IOException {
        Limit now = FileLimits.openFiles();
        long nrOpen = Long.parseLong(
                ProcFiles.readString(Path.of("/proc/sys/fs/nr_open")).trim());
        long target = target(requested, now, nrOpen);
        if (target < 0) return now.soft();
        try {
            FileLimits.setOpenFiles(new Limit(target, target));
            return target;
        } catch (NativeException e) {
            if (requested != null) throw new IOException("--rlimit-nofile " + target + ": " + e.getMessage(), e);
            LOG.warn(
                    "cannot set the open-file limit to {} ({}): using the hard limit {}",
                    target,
                    e.getMessage(),
                    now.hard());
            FileLimits.setOpenFiles(new Limit(now.hard(), now.hard()));
            return now.hard();
        }
    }
}
