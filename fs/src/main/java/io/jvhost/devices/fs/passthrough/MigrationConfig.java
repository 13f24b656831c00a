package io.jvhost.devices.fs.passthrough;

import java.util.Objects;

/**
 * Migration options of a {@link PassthroughFs} (see {@link MigrationMode}, {@link MigrationOnError});
 * {@code confirmPaths}: --migration-confirm-paths, re-check every saved path at switch-over
 * ({@link PathConfirmation}; find-paths only, as in virtiofsd); {@code reported}: whether each
 * capture and load logs its counts and times at info (a daemon's own device) or at debug (the
 * state-path warm-up's, which runs them many times on a device nobody migrates).
 */
public record MigrationConfig(MigrationMode mode, MigrationOnError onError, boolean confirmPaths, boolean reported) {
    public MigrationConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(onError, "onError");
        if (confirmPaths && mode != MigrationMode.FIND_PATHS)
            throw new IllegalArgumentException("confirming paths is for the find-paths migration mode");
    }

    public MigrationConfig(MigrationMode mode, MigrationOnError onError, boolean confirmPaths) {
        this(mode, onError, confirmPaths, true);
    }

    public MigrationConfig(MigrationMode mode, MigrationOnError onError) {
        this(mode, onError, false);
    }

    /** The same options, with captures and loads logged at debug only. */
    public MigrationConfig unreported() {
        return new MigrationConfig(mode, onError, confirmPaths, false);
    }

    /** virtiofsd's defaults: find-paths, abort. */
    public static MigrationConfig defaults() {
        return new MigrationConfig(MigrationMode.FIND_PATHS, MigrationOnError.ABORT);
    }
}
