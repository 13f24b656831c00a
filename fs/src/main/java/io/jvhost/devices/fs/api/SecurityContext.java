package io.jvhost.devices.fs.api;

/**
 * The security label a creating request carries (FUSE_SECURITY_CTX: the guest's LSM names the
 * xattr, e.g. security.selinux, and its value for the new inode), to be set on the new file
 * before anyone is told it exists.
 *
 * @param name  the xattr name, without its NUL (a "security." name, 1..255 bytes)
 * @param value the label, as the guest sent it (1..65536 bytes)
 */
public record SecurityContext(byte[] name, byte[] value) {
    public SecurityContext {
        name = name.clone();
        value = value.clone();
    }

    @Override
    public byte[] name() {
        return name.clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }
}
