package io.jvhost.nativeio;

/** fstatfs(2) of the file system holding a file (struct statfs, the fields FUSE reports). */
public record FsStats(
        long type,
        long bsize,
        long blocks,
        long bfree,
        long bavail,
        long files,
        long ffree,
        long namelen,
        long frsize,
        long flags) {}
