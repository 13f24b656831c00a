package io.jvhost.state;

/** Decides which layout version a reader parses a (sub)section with, or why it can't. */
final class Versions {
    private Versions() {}

    /**
     * @param oldest the oldest layout the reader's loader parses
     * @param newest the newest layout the reader's loader parses
     * @return the written version when the reader knows it; the reader's newest version when the
     *         writer is newer but declared (through its minimum version) that such readers can load it
     */
    static int negotiate(BlobInput blob, ScopeHeader h, int oldest, int newest) throws StateFormatException {
        int written = h.version();
        if (written <= newest) {
            if (written < oldest) {
                throw blob.fail("'" + h.name() + "' is version " + written + ", older than this reader loads ("
                        + range(oldest, newest) + ")");
            }
            return written;
        }
        if (h.minVersion() <= newest) {
            return newest;
        }
        throw blob.fail("'" + h.name() + "' is version " + written + " and needs a reader of version " + h.minVersion()
                + " or newer; this reader loads " + range(oldest, newest));
    }

    private static String range(int oldest, int newest) {
        return oldest == newest ? "version " + newest : "versions " + oldest + ".." + newest;
    }
}
