package io.jvhost.devices.fs.passthrough;

/**
 * How an inode the guest looked up is kept, as virtiofsd's --inode-file-handles: as an O_PATH
 * descriptor (one descriptor per inode, so the process's fd limit caps how many files the guest
 * can know), or as a file handle (name_to_handle_at) opened again with open_by_handle_at only
 * while a request uses it.
 */
public enum InodeFileHandles {
    /** Always an O_PATH descriptor. */
    NEVER,
    /**
     * A file handle where the file system gives one, else an O_PATH descriptor; and descriptors
     * altogether if the shared directory's own handle cannot be opened (no CAP_DAC_READ_SEARCH,
     * or no handles at all), with a warning.
     */
    PREFER,
    /** Always a file handle: the share must support them, a file without one is an error. */
    MANDATORY
}
