package io.jvhost.devices.fs.passthrough;

import java.util.Objects;

/**
 * Migration options of a {@link PassthroughFs} (see {@link MigrationMode}, {@link MigrationOnError});
 * {@code confirmPaths}: --migration-confirm-paths, re-check every saved path at switch-over
 * ({@link PathConfirmation}; find-paths only, as in virtiofsd).
 */
public record MigrationConfig(MigrationMode mode, MigrationOnError onError, boolean confirmPaths) {
    public MigrationConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(onError, "onError");
        if (confirmPaths && mode != MigrationMode.FIND_PATHS)
            throw new IllegalArgumentException("confirming paths is for the find-paths migration mode");
    }

    public MigrationConfig(MigrationMode mode, MigrationOnError onError) {
        this(mode, onError, false);
    }

    /** virtiofsd's defaults: find-paths, abort. */
    public static MigrationConfig defaults() {
        return new MigrationConfig(MigrationMode.FIND_PATHS, MigrationOnError.ABORT);
    }
}
