package io.jvhost.devices.fs.passthrough.virtiofsd;

/** The bytes are not a postcard-encoded virtiofsd device state; the message says where and why. */
public final class VirtiofsdFormatException extends Exception {
    public VirtiofsdFormatException(String message) {
        super(message);
    }
}
