package io.jvhost.bench.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's footprint as the kernel reports it in /proc/PID/status. */
record ProcStatus(long rssKib, int threads) {
    static ProcStatus of(long pid) throws IOException {
        long rss = -1;
        int threads = -1;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:"))
                rss = Long.parseLong(value(line).replace("kB", "").trim());
            else if (line.startsWith("Threads:")) threads = Integer.parseInt(value(line));
        }
        if (rss < 0 || threads < 0) throw new IOException("/proc/" + pid + "/status has no VmRSS or Threads");
        return new ProcStatus(rss, threads);
    }

    private static String value(String line) {
        return line.substring(line.indexOf(':') + 1).trim();
    }
}
