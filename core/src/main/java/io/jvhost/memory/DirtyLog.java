package io.jvhost.memory;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.NativeException;

/**
 * The back-end's dirty-page logging: an on/off switch (VHOST_F_LOG_ALL in SET_FEATURES) and
 * the current {@link DirtyBitmap} (SET_LOG_BASE). Shared by every queue of a device; all
 * methods are thread-safe.
 *
 * <p>{@link #markDirty} costs one volatile read while logging is off, so writers call it
 * unconditionally. The bitmap can be replaced while workers run (QEMU resizes the log with a
 * new SET_LOG_BASE when guest memory grows and reads the old one after our reply): the swap is
 * published first and the old bitmap unmapped after, so a worker either lands its bit in the
 * old log before the unmap (QEMU still harvests it) or finds the old one closed and retries on
 * the new one.
 */
public final class DirtyLog implements AutoCloseable {
    /** A log that is never enabled: for memory nobody tracks (the guest-driver model's own rings). */
    public static final DirtyLog NONE = new DirtyLog(false);

    private final boolean switchable;
    private volatile boolean enabled;
    private volatile DirtyBitmap bitmap;

    private DirtyLog(boolean switchable) {
        this.switchable = switchable;
    }

    public DirtyLog() {
        this(true);
    }

    /** Turns logging on or off (VHOST_F_LOG_ALL negotiated or not). */
    public void setEnabled(boolean on) {
        if (!switchable) throw new UnsupportedOperationException("DirtyLog.NONE cannot be enabled");
        enabled = on;
    }

    public boolean isEnabled() {
        return enabled;
    }

    /** The current bitmap, or null before SET_LOG_BASE. */
    public DirtyBitmap bitmap() {
        return bitmap;
    }

    /** Installs the log from SET_LOG_BASE (the caller keeps {@code fd}) and unmaps the previous one. */
    public void setBase(Fd fd, long mmapOffset, long size) throws GuestMemoryException, NativeException {
        setBitmap(DirtyBitmap.map(fd, mmapOffset, size));
    }

    /** Installs {@code next} (owned from now on) and closes the previous bitmap after the swap. */
    public synchronized void setBitmap(DirtyBitmap next) {
        if (!switchable) throw new UnsupportedOperationException("DirtyLog.NONE has no bitmap");
        DirtyBitmap previous = bitmap;
        bitmap = next;
        if (previous != null && previous != next) previous.close();
    }

    /** Marks {@code [guestPhysAddr, +len)} dirty if logging is on and a bitmap is installed. */
    public void markDirty(long guestPhysAddr, long len) {
        if (!enabled) return;
        DirtyBitmap b = bitmap;
        while (b != null) {
            try {
                b.markDirty(guestPhysAddr, len);
                return;
            } catch (IllegalStateException closedUnderUs) {
                // Replaced and unmapped between our read and our write: the mark belongs in
                // the new bitmap. A bitmap closed without replacement (close()) drops it.
                DirtyBitmap current = bitmap;
                if (current == b) return;
                b = current;
            }
        }
    }

    /** Turns logging off and unmaps the bitmap. */
    @Override
    public synchronized void close() {
        enabled = false;
        DirtyBitmap previous = bitmap;
        bitmap = null;
        if (previous != null) previous.close();
    }
}
