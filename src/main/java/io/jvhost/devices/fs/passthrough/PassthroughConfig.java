package io.jvhost.devices.fs.passthrough;

/**
 * Options of a {@link PassthroughFs}. The guest's writeback cache is never offered: with it the
 * guest would send writes for files it opened write-only as reads too, which this file system
 * does not emulate.
 *
 * @param cache       timeouts and guest caching (see {@link CachePolicy})
 * @param xattr       serve extended attributes (else the xattr calls answer ENOSYS, which tells
 *                    the guest kernel not to ask again)
 * @param fileHandles record each inode's name_to_handle_at handle, for migration
 */
public record PassthroughConfig(CachePolicy cache, boolean xattr, boolean fileHandles) {
    public PassthroughConfig {
        java.util.Objects.requireNonNull(cache, "cache");
    }

    public static PassthroughConfig defaults() {
        return new PassthroughConfig(CachePolicy.AUTO, true, true);
    }
}
