package io.jvhost.devices.fs.passthrough;

/**
 * Something whose descriptors other threads may be using when it is removed from its table
 * (a FORGET or RELEASE racing a request on another queue). Each use is pinned; removal only
 * retires it, and the descriptors close when the last use ends. Without this, a descriptor
 * number could be closed, reused by the kernel for another file, and then used by a request
 * still in flight.
 */
abstract class Pinnable implements AutoCloseable {
    private int pins;
    private boolean retired;

    /** Starts a use; false if already retired (then it must not be used). */
    final synchronized boolean pin() {
        if (retired) return false;
        pins++;
        return true;
    }

    /** Ends one use. */
    @Override
    public final void close() {
        boolean release;
        synchronized (this) {
            pins--;
            release = retired && pins == 0;
            if (pins == 0 && !retired) unpinned();
        }
        if (release) closeDescriptors();
    }

    /** Taken out of its table: descriptors close now, or when the last use ends. */
    final void retire() {
        boolean release;
        synchronized (this) {
            if (retired) return;
            retired = true;
            release = pins == 0;
        }
        if (release) closeDescriptors();
    }

    /** Whether a use is in progress (call holding this object's lock). */
    final boolean pinned() {
        return pins > 0;
    }

    /** The last use ended and the object stays in its table (called holding its lock): what only uses need can go. */
    void unpinned() {}

    abstract void closeDescriptors();
}
