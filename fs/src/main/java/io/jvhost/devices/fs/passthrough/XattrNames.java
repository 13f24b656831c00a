package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Which xattr names the guest may use and what they are called on the host, as virtiofsd decides
 * it: the POSIX ACL names only while ACLs are on (else ENOTSUP, and hidden from listxattr, so
 * that the guest never acts on an ACL its kernel does not enforce), then the --xattrmap, if any.
 */
final class XattrNames {
    static final byte[] ACL_ACCESS = "system.posix_acl_access".getBytes(StandardCharsets.US_ASCII);
    static final byte[] ACL_DEFAULT = "system.posix_acl_default".getBytes(StandardCharsets.US_ASCII);

    private final XattrMap map;

    XattrNames(XattrMap map) {
        this.map = map;
    }

    /** The host name for the guest's (already checked) {@code name}: EPERM for a bad rule, ENOTSUP for unsupported. */
    byte[] host(byte[] name, boolean aclOn) throws FsException {
        if (!aclOn && isAcl(name)) throw new FsException(Errno.EOPNOTSUPP, "POSIX ACLs are off");
        if (map == null) return name;
        return switch (map.client(name)) {
            case XattrMap.Pass p -> p.hostName();
            case XattrMap.Deny d -> throw new FsException(Errno.EPERM, "xattrmap refuses the name");
            case XattrMap.Unsupported u -> throw new FsException(Errno.EOPNOTSUPP, "xattrmap: unsupported name");
        };
    }

    /** A host listxattr answer as the guest sees it. */
    byte[] guestList(byte[] hostList, boolean aclOn) {
        byte[] mapped = map == null ? hostList : map.server(hostList);
        if (aclOn) return mapped;
        ByteArrayOutputStream out = new ByteArrayOutputStream(mapped.length);
        int start = 0;
        for (int i = 0; i < mapped.length; i++) {
            if (mapped[i] != 0) continue;
            byte[] name = Arrays.copyOfRange(mapped, start, i);
            if (name.length > 0 && !isAcl(name)) {
                out.write(name, 0, name.length);
                out.write(0);
            }
            start = i + 1;
        }
        return out.toByteArray();
    }

    static boolean isAcl(byte[] name) {
        return Arrays.equals(name, ACL_ACCESS) || Arrays.equals(name, ACL_DEFAULT);
    }
}
