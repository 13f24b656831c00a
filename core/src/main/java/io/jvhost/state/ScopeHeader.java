package io.jvhost.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** What follows a SECTION or SUBSECTION tag: name, version, minimum reader version, flags. */
record ScopeHeader(String name, int version, int minVersion, IfUnknown ifUnknown) {

    ScopeHeader {
        Wire.requireValidName("section", name);
        Wire.requireVersions(name, version, minVersion);
    }

    void writeTo(BlobOutput out) throws IOException {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        out.u8(n.length);
        out.write(n, 0, n.length);
        out.varint(version);
        out.varint(minVersion);
        out.u8(ifUnknown == IfUnknown.SKIP ? Wire.FLAG_SKIP_IF_UNKNOWN : 0);
    }

    static ScopeHeader readFrom(BlobInput in) throws IOException {
        String name = readName(in, "section");
        int version = readVersion(in, name, "version");
        int minVersion = readVersion(in, name, "minimum version");
        if (minVersion > version) {
            throw in.fail("'" + name + "' has minimum version " + minVersion + " above its version " + version);
        }
        int flags = in.u8();
        if ((flags & ~Wire.FLAG_SKIP_IF_UNKNOWN) != 0) {
            throw in.fail("'" + name + "' has unknown flag bits 0x" + Integer.toHexString(flags));
        }
        IfUnknown ifUnknown = (flags & Wire.FLAG_SKIP_IF_UNKNOWN) != 0 ? IfUnknown.SKIP : IfUnknown.FAIL;
        return new ScopeHeader(name, version, minVersion, ifUnknown);
    }

    static String readName(BlobInput in, String what) throws IOException {
        int length = in.u8();
        if (length < 1 || length > Wire.MAX_NAME_LENGTH) {
            throw in.fail(what + " name length " + length + " outside 1.." + Wire.MAX_NAME_LENGTH);
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes, 0, length);
        String name = new String(bytes, StandardCharsets.ISO_8859_1);
        if (!Wire.isValidName(name)) {
            throw in.fail(what + " name has characters outside [A-Za-z0-9._:-]");
        }
        return name;
    }

    private static int readVersion(BlobInput in, String name, String what) throws IOException {
        long v = Varint.read(in);
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw in.fail(
                    "'" + name + "' has " + what + " " + Long.toUnsignedString(v) + " outside 1.." + Integer.MAX_VALUE);
        }
        return (int) v;
    }
}
