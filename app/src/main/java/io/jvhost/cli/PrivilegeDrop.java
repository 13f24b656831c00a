package io.jvhost.cli;

import io.jvhost.nativeio.Capability;
import io.jvhost.nativeio.Privileges;
import io.jvhost.nativeio.ProcFiles;
import io.jvhost.nativeio.SelfExec;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon command gives up what it does not need before it serves anyone: supplementary
 * groups, every capability outside its set, and the right to gain any back (no_new_privs).
 *
 * <p>Capabilities and no_new_privs are per thread in Linux, and by the time a command runs the
 * JVM has many threads (the launcher's primordial thread among them, whose /proc/PID/status
 * is what a reader sees) that a capset here would not reach. So this thread drops them (the
 * bounding set too, since root regains its bounding set on exec), sets no_new_privs and
 * re-executes the same command line: the new image starts single-threaded from this thread's
 * credentials, and every thread the JVM then starts inherits them. The new image finds nothing
 * left to drop and goes on; an environment marker stops a second restart if the kernel did not
 * do as expected. Costs one JVM start-up.
 */
final class PrivilegeDrop {
    static final String RESTARTED = "JVHOST_PRIVILEGES_DROPPED";

    private PrivilegeDrop() {}

    /**
     * Makes every thread of this process hold at most {@code keep} and no_new_privs, restarting
     * the process if needed; {@code inheritedFd} (a listening socket given with --fd), if not
     * null, stays open across the restart.
     */
    static void reduceTo(Set<Capability> keep, Integer inheritedFd) throws IOException {
        long mask = Capability.mask(keep);
        List<String> left = leftToDrop(mask);
        if (left.isEmpty()) {
            // Logging is set up only here: the image that restarts would pay for it in vain.
            Logger log = LoggerFactory.getLogger(PrivilegeDrop.class);
            log.debug("running with capabilities {} and no_new_privs", Long.toHexString(mask));
            return;
        }
        if (System.getenv(RESTARTED) != null) {
            throw new IllegalStateException(
                    "privileges still not reduced after restarting: " + String.join("; ", left));
        }
        Privileges.CapabilitySets now = Privileges.capabilities();
        if (now.has(Capability.SETGID) && groupsChangeable()) Privileges.dropSupplementaryGroups();
        if (now.has(Capability.SETPCAP)) Privileges.limitBoundingSet(mask);
        Privileges.clearAmbientSet();
        Privileges.setCapabilities(now.permitted() & mask);
        Privileges.setNoNewPrivs();
        SelfExec.restart(RESTARTED, inheritedFd == null ? Set.of() : Set.of(inheritedFd));
    }

    /**
     * What some thread of this process still holds beyond {@code mask} (from
     * /proc/self/task/TID/status): capabilities it has or could take back, no no_new_privs,
     * supplementary groups it could have dropped.
     */
    static List<String> leftToDrop(long mask) throws IOException {
        List<String> left = new ArrayList<>();
        boolean groupsChangeable = groupsChangeable();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                Map<String, String> s;
                try {
                    s = status(task.resolve("status"));
                } catch (IOException ended) { // ENOENT or ESRCH: the thread ended since the listing
                    continue;
                }
                long permitted = hex(s, "CapPrm");
                String who = "thread " + task.getFileName() + ": ";
                if (!"1".equals(s.get("NoNewPrivs"))) left.add(who + "no_new_privs not set");
                if ((permitted & ~mask) != 0 || (hex(s, "CapEff") & ~mask) != 0)
                    left.add(who + "capabilities " + s.get("CapPrm"));
                if (hex(s, "CapInh") != 0 || hex(s, "CapAmb") != 0)
                    left.add(who + "inheritable or ambient capabilities");
                boolean canSetGroups = groupsChangeable && (permitted & (1L << Capability.SETGID.number)) != 0;
                if (canSetGroups && !s.getOrDefault("Groups", "").isBlank())
                    left.add(who + "groups " + s.get("Groups"));
            }
        }
        return left;
    }

    /**
     * False in a user namespace whose /proc/self/setgroups says "deny": nobody there may change
     * groups (setgroups fails with EPERM, whatever the capabilities), so there is nothing to drop.
     */
    private static boolean groupsChangeable() throws IOException {
        Path policy = Path.of("/proc/self/setgroups");
        return !Files.exists(policy)
                || !"deny".equals(ProcFiles.readString(policy).trim());
    }

    private static Map<String, String> status(Path file) throws IOException {
        Map<String, String> out = new HashMap<>();
        for (String line : ProcFiles.readString(file).split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0)
                out.put(line.substring(0, colon), line.substring(colon + 1).trim());
        }
        return out;
    }

    private static long hex(Map<String, String> status, String key) {
        String v = status.get(key);
        return v == null ? -1 : Long.parseUnsignedLong(v, 16);
    }
}
