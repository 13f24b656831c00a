package io.jvhost.devices.fs.passthrough;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Where an inode was last seen: a name in a parent directory node. Kept current on rename and
 * cleared when that name is unlinked, so that a node can be found again by path (migration
 * without file handles).
 */
public record Location(long parentId, byte[] name) {
    public Location {
        name = name.clone();
    }

    @Override
    public byte[] name() {
        return name.clone();
    }

    /** The name itself, not a copy: for this package's calls that only pass it on to a system call. */
    byte[] nameUncopied() {
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Location l && l.parentId == parentId && Arrays.equals(l.name, name);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(parentId) * 31 + Arrays.hashCode(name);
    }

    @Override
    public String toString() {
        return parentId + "/" + new String(name, StandardCharsets.UTF_8);
    }
}
