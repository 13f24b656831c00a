package io.jvhost.devices.fs.api;

import io.jvhost.nativeio.Fd;

/**
 * The data of a WRITE request, still in guest memory: the file system gives it the open file
 * and the source writes from the mapped descriptors with pwrite/pwritev, with no heap copy.
 */
public interface WriteSource {
    /** Bytes of data the guest sent. */
    long size();

    /** Writes all the data into {@code file} at {@code offset} (or appends with O_APPEND); returns bytes written. */
    long writeTo(Fd file, long offset) throws FsException;
}
