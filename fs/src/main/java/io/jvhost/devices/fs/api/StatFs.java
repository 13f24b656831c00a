package io.jvhost.devices.fs.api;

/** statvfs of the shared directory's file system (fuse_kstatfs). */
public record StatFs(
        long blocks, long bfree, long bavail, long files, long ffree, int bsize, int namelen, int frsize) {}
