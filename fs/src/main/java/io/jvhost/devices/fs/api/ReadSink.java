package io.jvhost.devices.fs.api;

import io.jvhost.nativeio.Fd;

/**
 * The device-writable part of a READ request: the file system gives it the open file and the
 * sink reads from that fd straight into guest memory (pread/preadv into the mapped
 * descriptors, dirty pages logged), so file data is never copied through the Java heap.
 */
public interface ReadSink {
    /** Room left in the guest's buffer, bytes. */
    long remaining();

    /**
     * Reads up to {@code size} bytes of {@code file} at {@code offset} into the guest buffer;
     * returns bytes read (short at end of file, 0 at EOF).
     */
    long readFrom(Fd file, long offset, long size) throws FsException;
}
