package io.jvhost.devices.fs.passthrough;

/**
 * How the source tells the destination where each node is, as virtiofsd's --migration-mode:
 * by path (parent node + name, checked against the file's identity on the destination when both
 * sides share the file system) or by file handle (name_to_handle_at / open_by_handle_at: needs
 * the very same file system on both sides, finds files renamed or unlinked behind the guest's
 * back). Either way the state carries both where it has both; the mode says which one the
 * destination tries first.
 */
public enum MigrationMode {
    FIND_PATHS,
    FILE_HANDLES
}
