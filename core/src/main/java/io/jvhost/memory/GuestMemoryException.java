package io.jvhost.memory;

/**
 * A guest address range that the back-end cannot access: not mapped, crossing the end of a
 * region, overflowing the 64-bit address space, or a region table the front-end sent that
 * cannot be installed. Checked, because the addresses come from the guest or the front-end
 * and every caller has to decide what a bad one means (reject a chain, fail a message).
 */
public final class GuestMemoryException extends Exception {
    private static final long serialVersionUID = 1L;
    private final long address;

    public GuestMemoryException(String message, long address) {
        super(message);
        this.address = address;
    }

    public GuestMemoryException(String message, long address, Throwable cause) {
        super(message, cause);
        this.address = address;
    }

    /** The offending address (guest-physical or front-end user address, as the message says). */
    public long address() {
        return address;
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }
}
