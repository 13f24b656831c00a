package io.jvhost.devices.fs.api;

/** An open file or directory handle ({@code fh}) and FOPEN_* flags for the guest. */
public record Opened(long fh, int openFlags) {
    public static final int FOPEN_DIRECT_IO = 1,
            FOPEN_KEEP_CACHE = 2,
            FOPEN_NONSEEKABLE = 4,
            FOPEN_CACHE_DIR = 8,
            FOPEN_STREAM = 16,
            FOPEN_NOFLUSH = 32;
}
