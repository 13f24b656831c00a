package io.jvhost.devices.fs;

/**
 * The format a source writes its device state in: jvhost's own (sections, checked, carries the
 * FUSE session and file handles), or virtiofsd's, so that the destination can be virtiofsd.
 * A destination reads both whatever this says.
 */
public enum StateFormat {
    JVHOST,
    VIRTIOFSD
}
