package io.jvhost.devices.fs.api;

import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.state.LoadedState;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateWriter;
import java.io.IOException;

/**
 * A {@link FileSystem} whose guest-visible state (node ids, lookup counts, open handles) can move
 * to another back-end process during a live migration. The virtio-fs device combines it with
 * the FUSE session's own state into one blob in the {@code state} format; the split in capture /
 * write and parse / prepare / commit follows the device SPI (backend.StatefulDevice), so a
 * failed load never changes the running file system.
 */
public interface MigratableFileSystem extends FileSystem {
    /**
     * Captures the state now (the device is suspended: no request runs). The result must not
     * share mutable data with the live file system; writing it may happen later, on another thread.
     */
    Capture capture() throws FsException;

    /**
     * Captures the state now as virtiofsd's (for a destination that is virtiofsd); what that
     * format cannot name is marked lost, for the destination's error policy.
     */
    VirtiofsdState captureVirtiofsd() throws FsException;

    /**
     * A live migration started (the front-end turned dirty logging on): the file system may
     * prepare what {@link #capture()} will need while the guest still runs, so that the capture
     * at stop time only has to add what changed since. Must return quickly; a second call
     * prepares afresh. Whatever is prepared, a capture writes exactly what it would without.
     */
    default void prepareMigration() {}

    /** The migration was given up (or the device reset): drop whatever {@link #prepareMigration()} holds. */
    default void cancelMigration() {}

    /** Registers the loaders for the sections {@link Capture#writeTo} writes. */
    void registerLoaders(StateReader.Builder reader);

    /**
     * Rebuilds the captured state from a fully parsed and checked blob: reopens files, checks
     * they are the ones the source had. Changes nothing in the live file system; a failure the
     * configured error policy does not tolerate throws.
     */
    Prepared prepare(LoadedState state) throws FsException;

    /**
     * As {@link #prepare(LoadedState)}, from virtiofsd's state (a migration from virtiofsd), with
     * the INIT flags the device derived for the guest's session.
     */
    Prepared prepare(VirtiofsdState state, long initFlags) throws FsException;

    /** A captured state. */
    interface Capture {
        void writeTo(StateWriter out) throws IOException;

        /** What to log of the capture once the front-end has its answer (see {@code SavedState.summary}); empty: nothing. */
        default String summary() {
            return "";
        }
    }

    /** A rebuilt state, ready to replace the live one. */
    interface Prepared {
        /** Installs it (cannot fail). */
        void commit();

        /** Not installed after all: release what preparing opened. */
        void discard();
    }
}
