package io.jvhost.migration;

/**
 * Receives {@link Progress} reports. Called from transfer threads, one call at a time, at most
 * every reporting interval and once more at the end: keep it quick, it delays the stream.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = p -> {};

    void onProgress(Progress progress);
}
