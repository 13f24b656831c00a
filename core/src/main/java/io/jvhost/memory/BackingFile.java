package io.jvhost.memory;

import static io.jvhost.memory.GuestMemoryException.hex;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;

/**
 * The file behind memory the front-end shares (a guest RAM region, the dirty log), checked
 * before it is mapped: mmap happily maps past the end of a file, and the first touch of a page
 * there raises SIGBUS, which the JVM turns into an InternalError in whichever thread touched it
 * (a ring worker). virtiofsd refuses such a region the same way (vm-memory's MappingPastEof).
 *
 * <p>Only regular files are accepted: memfd, tmpfs (/dev/shm) and hugetlbfs files, what QEMU's
 * memory backends share, all are, and their size is what fstat says. Anything else is refused:
 * a block device's size is not in st_size and it faults past its end like a file; a character
 * device (device DAX) bounds its own mappings in ways that cannot be checked here. A front-end
 * that shrinks the file after this check still makes us fault; the rings catch that and stop.
 */
final class BackingFile {
    private BackingFile() {}

    /**
     * Refuses {@code fd} unless it is a regular file of at least {@code end} bytes.
     *
     * @param what    for the message ("memory region [...]", "dirty log")
     * @param address the address the exception reports
     */
    static void requireCovers(Fd fd, long end, String what, long address) throws GuestMemoryException, NativeException {
        Stat st = FileCalls.fstat(fd);
        if (!st.isRegularFile()) {
            throw new GuestMemoryException(
                    what + " is backed by a file of type 0" + Integer.toOctalString(st.fileType())
                            + ", not a regular file (memfd, tmpfs, hugetlbfs): its size cannot be checked",
                    address);
        }
        if (Long.compareUnsigned(end, st.size()) > 0) {
            throw new GuestMemoryException(
                    what + " reaches file offset " + hex(end) + " but its file has only " + hex(st.size())
                            + " bytes: the part past the end would fault",
                    address);
        }
    }
}
