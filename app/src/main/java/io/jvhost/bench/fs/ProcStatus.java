package io.jvhost.bench.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A process's footprint as the kernel reports it in /proc/PID/status: VmRSS, and its two parts
 * that matter for a JVM, RssAnon (its own: heap, code cache, metaspace, stacks, and the pages of
 * a mapped file it wrote to, such as a relocated AOT cache) and RssFile (clean pages of files,
 * libjvm.so and the cache: shared with other processes mapping them and reclaimable).
 */
record ProcStatus(long rssKib, long rssAnonKib, long rssFileKib, int threads) {
    static ProcStatus of(long pid) throws IOException {
        return parse(Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")), pid);
    }

    static ProcStatus parse(List<String> lines, long pid) throws IOException {
        long rss = -1, anon = -1, file = -1;
        int threads = -1;
        for (String line : lines) {
            if (line.startsWith("VmRSS:")) rss = kib(line);
            else if (line.startsWith("RssAnon:")) anon = kib(line);
            else if (line.startsWith("RssFile:")) file = kib(line);
            else if (line.startsWith("Threads:")) threads = Integer.parseInt(value(line));
        }
        if (rss < 0 || anon < 0 || file < 0 || threads < 0)
            throw new IOException("/proc/" + pid + "/status has no VmRSS, RssAnon, RssFile or Threads");
        return new ProcStatus(rss, anon, file, threads);
    }

    private static long kib(String line) {
        return Long.parseLong(value(line).replace("kB", "").trim());
    }

    private static String value(String line) {
        return line.substring(line.indexOf(':') + 1).trim();
    }
}
