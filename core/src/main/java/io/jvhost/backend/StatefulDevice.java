package io.jvhost.backend;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A {@link Device} whose internal state can migrate (vhost-user protocol feature DEVICE_STATE,
 * spec "Migrating back-end state"). The session offers DEVICE_STATE only for devices that
 * implement this; the bytes are the device's own business (jvhost devices use the {@code state}
 * format), the session only moves them.
 *
 * <p>Both directions are split in two so that the session controls when the device is touched:
 * <ul>
 *   <li>save: {@link #captureState()} runs on the session thread while every ring is stopped
 *       and locked, and returns an immutable snapshot; the snapshot is then written out on a
 *       transfer thread, however slowly the front-end reads, without holding anything.</li>
 *   <li>load: {@link #prepareLoad} parses and validates the whole stream on the transfer thread
 *       without changing the device; only if that succeeds (and the stream ended exactly there)
 *       does the session call {@link PreparedState#commit()}, with every ring locked. A failed
 *       load therefore leaves the device as it was.</li>
 * </ul>
 */
public interface StatefulDevice extends Device {

    /**
     * Whether this instance can migrate now (DEVICE_STATE is offered only then); e.g. a virtio-fs
     * device whose file system keeps no migratable state says no.
     */
    default boolean canMigrate() {
        return true;
    }

    /**
     * A consistent copy of the state, taken while no chain is being processed. Must be quick
     * (the session thread waits) and must not share mutable data with the live device.
     */
    SavedState captureState() throws DeviceException;

    /**
     * Reads one whole state from {@code in} and checks it (versions, sizes, integrity), without
     * changing the device. Reading stops where the state ends; bytes left after it make the
     * load fail. A {@link DeviceException} or {@link IOException} rejects the state.
     */
    PreparedState prepareLoad(InputStream in) throws IOException, DeviceException;

    /**
     * A captured state, written out after the SET_DEVICE_STATE_FD reply (on the session thread as
     * far as the channel takes it at once, the rest on the transfer thread). {@link #writeTo} may
     * be called twice, and must write the same bytes each time: the transfer thread writes a
     * state larger than the channel again from its start.
     */
    @FunctionalInterface
    interface SavedState {
        void writeTo(OutputStream out) throws IOException;

        /**
         * What the device has to say of the capture (counts, times), logged once the front-end
         * has its reply, not inside the guest's downtime; empty: nothing.
         */
        default String summary() {
            return "";
        }
    }

    /** A parsed and validated state, ready to replace the device's own. */
    @FunctionalInterface
    interface PreparedState {
        /** Installs the state; cannot fail (everything that could was checked when preparing). */
        void commit();

        /** Not installed after all (the load was cancelled or refused): releases what preparing opened. */
        default void discard() {}
    }
}
