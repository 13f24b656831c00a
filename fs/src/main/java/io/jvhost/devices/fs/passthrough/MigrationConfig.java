package io.jvhost.devices.fs.passthrough;

import java.util.Objects;

/** Migration options of a {@link PassthroughFs} (see {@link MigrationMode}, {@link MigrationOnError}). */
public record MigrationConfig(MigrationMode mode, MigrationOnError onError) {
    public MigrationConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(onError, "onError");
    }

    /** virtiofsd's defaults: find-paths, abort. */
    public static MigrationConfig defaults() {
        return new MigrationConfig(MigrationMode.FIND_PATHS, MigrationOnError.ABORT);
    }
}
