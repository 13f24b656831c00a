package io.jvhost.devices.fs.passthrough;

/**
 * What the destination does with a node or handle it cannot reopen, as virtiofsd's
 * --migration-on-error: abort (the load fails, CHECK_DEVICE_STATE reports it and the source
 * keeps running) or guest-error (the load succeeds; that node or handle answers EIO to the guest,
 * everything else works).
 */
public enum MigrationOnError {
    ABORT,
    GUEST_ERROR
}
