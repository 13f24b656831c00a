package io.jvhost.backend;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the device when a live migration starts and when it is cancelled. QEMU sets
 * VHOST_F_LOG_ALL in SET_FEATURES when a migration starts (dirty logging on) and clears it when
 * the migration ends; cleared before the device state was saved means it was given up.
 */
final class MigrationHooks {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationHooks.class);

    private final Device device;
    private boolean migrating;
    private boolean saved;

    MigrationHooks(Device device) {
        this.device = device;
    }

    /** SET_FEATURES applied: calls the device's hook on a change of LOG_ALL; a hook that throws is refused. */
    void logAll(boolean on) throws RequestRejected {
        if (on == migrating) return;
        migrating = on;
        try {
            if (on) {
                saved = false;
                LOG.info("{}: migration starting (LOG_ALL set)", device.name());
                device.migrationStarting();
            } else if (!saved) {
                LOG.info("{}: migration cancelled (LOG_ALL cleared before the state was saved)", device.name());
                device.migrationCancelled();
            }
        } catch (RuntimeException e) {
            throw new RequestRejected(
                    device.name() + " failed to " + (on ? "start" : "cancel") + " a migration: " + e, e);
        }
    }

    /** CHECK_DEVICE_STATE confirmed a save: clearing LOG_ALL from now on ends a migration that completed. */
    void stateSaved() {
        saved = true;
    }

    /** RESET_DEVICE: the features are gone; the device's reset() drops what a migration prepared. */
    void reset() {
        migrating = false;
        saved = false;
    }
}
