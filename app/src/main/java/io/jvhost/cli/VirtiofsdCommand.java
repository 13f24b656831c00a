package io.jvhost.cli;

import io.jvhost.devices.fs.passthrough.XattrMap;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code jvhost virtiofsd} (the {@code jvhost-virtiofsd} script): virtiofsd 1.13's command line as
 * libvirt, KubeVirt, Kata or a user write it, served by {@code jvhost fs}. Every virtiofsd flag is
 * either translated into {@code jvhost fs}'s (which builds the device: one way to do it) or
 * refused with a one-line error naming the flag and why; defaults are virtiofsd 1.13.3's. As
 * virtiofsd, it serves one front-end and exits when that one disconnects. docs/virtiofsd-compat.md
 * lists every flag.
 */
@Command(
        name = "virtiofsd",
        mixinStandardHelpOptions = true,
        version = "jvhost-virtiofsd 0.1.0 (virtiofsd 1.13.3 command line)",
        description = "Launch a virtiofsd backend (jvhost's virtio-fs device, virtiofsd's command line).")
public final class VirtiofsdCommand implements Callable<Integer> {
    @Option(names = "--shared-dir", paramLabel = "SHARED_DIR", description = "Shared directory path.")
    String sharedDir;

    @Option(names = "--tag", paramLabel = "TAG", description = "The tag that the virtio device advertises.")
    String tag;

    @Option(names = "--socket", paramLabel = "SOCKET", description = "vhost-user socket path [deprecated].")
    String socket;

    @Option(names = "--socket-path", paramLabel = "SOCKET_PATH", description = "vhost-user socket path.")
    String socketPath;

    @Option(
            names = "--socket-group",
            paramLabel = "SOCKET_GROUP",
            description = "Name of group for the vhost-user socket.")
    String socketGroup;

    @Option(names = "--fd", paramLabel = "FD", description = "File descriptor for the listening socket.")
    Integer fd;

    @Option(
            names = "--thread-pool-size",
            paramLabel = "N",
            defaultValue = "0",
            description = "Maximum thread pool size; 0 disables the pool (default: ${DEFAULT-VALUE}).")
    int threadPoolSize;

    @Option(names = "--xattr", description = "Enable support for extended attributes.")
    boolean xattr;

    @Option(names = "--posix-acl", description = "Enable support for posix ACLs (implies --xattr).")
    boolean posixAcl;

    @Option(
            names = "--xattrmap",
            paramLabel = "XATTRMAP",
            description = "Add custom rules for translating extended attributes between host and guest "
                    + "(e.g. :map::user.virtiofs.:).")
    String xattrmap;

    @Option(
            names = "--sandbox",
            paramLabel = "SANDBOX",
            converter = Spelled.SandboxMode.class,
            defaultValue = "namespace",
            description = "namespace, chroot, none (default: ${DEFAULT-VALUE}).")
    Sandbox.Mode sandbox;

    @Option(names = "--readonly", description = "Share the directory read-only.")
    boolean readonly;

    @Option(
            names = "--seccomp",
            paramLabel = "SECCOMP",
            converter = Spelled.SeccompAction.class,
            defaultValue = "kill",
            description = "Action on a system call outside the allow-list: none, kill, log, trap "
                    + "(default: ${DEFAULT-VALUE}).")
    SyscallFilter.Action seccomp;

    /** --announce-submounts and --no-announce-submounts, the last one given counting (as virtiofsd's). */
    @Option(
            names = "--announce-submounts",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Tell the guest which directories are mount points [default]; --no-announce-submounts: do "
                    + "not.")
    boolean announceSubmounts;

    @Option(
            names = "--inode-file-handles",
            paramLabel = "MODE",
            description = "never, prefer, mandatory (fallback: prefer); not given: jvhost fs's default, prefer, as "
                    + "virtiofsd 1.13.3.")
    String inodeFileHandles;

    @Option(
            names = "--cache",
            paramLabel = "CACHE",
            defaultValue = "auto",
            description = "auto, always, never, metadata (default: ${DEFAULT-VALUE}).")
    String cache;

    @Option(names = "--allow-mmap", description = "With --cache metadata or never, allow shared mmap of files.")
    boolean allowMmap;

    @Option(names = "--no-readdirplus", description = "Disable support for READDIRPLUS operations.")
    boolean noReaddirplus;

    @Option(names = "--writeback", description = "Enable writeback cache.")
    boolean writeback;

    @Option(names = "--allow-direct-io", description = "Honor the O_DIRECT flag passed down by guest applications.")
    boolean allowDirectIo;

    @Option(names = "--print-capabilities", description = "Print vhost-user.json back-end capabilities and exit.")
    boolean printCapabilities;

    @Option(
            names = "--modcaps",
            paramLabel = "MODCAPS",
            description = "Modify the capabilities, e.g. +sys_admin:-chown.")
    String modcaps;

    @Option(
            names = "--log-level",
            paramLabel = "LOG_LEVEL",
            defaultValue = "info",
            description = "error, warn, info, debug, trace, off (default: ${DEFAULT-VALUE}).")
    String logLevel;

    @Option(names = "--syslog", description = "Log to syslog [default: stderr].")
    boolean syslog;

    @Option(
            names = "--rlimit-nofile",
            paramLabel = "N",
            description = "Maximum number of file descriptors (0: unchanged).")
    Long rlimitNofile;

    @Option(names = "-o", paramLabel = "COMPAT_OPTIONS", description = "Legacy options [deprecated].")
    List<String> compatOptions = new ArrayList<>();

    @Option(names = "-d", description = "Set log level to debug [deprecated].")
    boolean compatDebug;

    @Option(names = "-f", description = "No effect [deprecated].")
    boolean compatForeground;

    /** --killpriv-v2 and --no-killpriv-v2, the last one given counting (as virtiofsd's). */
    @Option(
            names = "--killpriv-v2",
            negatable = true,
            description = "Enable KILLPRIV V2 support; --no-killpriv-v2: disable it [default].")
    boolean killprivV2;

    @Option(
            names = "--security-label",
            description = "Enable security label support (implies --xattr): the label the guest sends with a new "
                    + "file is stored on it.")
    boolean securityLabel;

    @Option(
            names = "--uid-map",
            paramLabel = "UID_MAP",
            description = "Map a range of UIDs from the host into the namespace, given as "
                    + ":namespace_uid:host_uid:count: (unprivileged --sandbox namespace).")
    List<String> uidMap = new ArrayList<>();

    @Option(
            names = "--gid-map",
            paramLabel = "GID_MAP",
            description = "Map a range of GIDs from the host into the namespace, given as "
                    + ":namespace_gid:host_gid:count: (unprivileged --sandbox namespace).")
    List<String> gidMap = new ArrayList<>();

    @Option(
            names = "--translate-uid",
            paramLabel = "TRANSLATE_UID",
            description =
                    "Translate UIDs between guest and host, given as '<type>:<source base>:<target base>:<count>' "
                            + "(guest, host, squash-guest, squash-host, forbid-guest, map).")
    List<String> translateUid = new ArrayList<>();

    @Option(
            names = "--translate-gid",
            paramLabel = "TRANSLATE_GID",
            description = "Same as '--translate-uid', but for GIDs.")
    List<String> translateGid = new ArrayList<>();

    @Option(names = "--preserve-noatime", description = "Preserve O_NOATIME (cleared by default).")
    boolean preserveNoatime;

    @Option(
            names = "--migration-mode",
            paramLabel = "MIGRATION_MODE",
            defaultValue = "find-paths",
            description = "find-paths, file-handles (default: ${DEFAULT-VALUE}).")
    String migrationMode;

    @Option(
            names = "--migration-on-error",
            paramLabel = "MIGRATION_ON_ERROR",
            defaultValue = "abort",
            description = "abort, guest-error (default: ${DEFAULT-VALUE}).")
    String migrationOnError;

    @Option(
            names = "--migration-verify-handles",
            description = "Check the destination opened the same inodes (always).")
    boolean migrationVerifyHandles;

    @Option(
            names = "--migration-confirm-paths",
            description = "Re-check the saved paths at switch-over (find-paths only).")
    boolean migrationConfirmPaths;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        List<String> fs = fsArguments();
        if (!fs.contains("--print-capabilities")) DaemonOptions.applyLogging(logLevel(), syslog);
        if (System.getenv(PrivilegeDrop.RESTARTED) == null) warnAboutDefaults(); // once, not again after the restart
        CommandLine fsCommand = VirtiofsdErrors.install(new CommandLine(new FsCommand()));
        return fsCommand.execute(fs.toArray(String[]::new));
    }

    /**
     * The {@code jvhost fs} command line with the same meaning, after the legacy {@code -o}
     * options; a flag jvhost cannot honour fails here, naming it.
     */
    List<String> fsArguments() {
        LegacyOptions.apply(this);
        List<String> refused = refusals();
        if (!refused.isEmpty()) throw new ParameterException(spec.commandLine(), refused.getFirst());
        List<String> out = new ArrayList<>();
        if (printCapabilities) {
            out.add("--print-capabilities");
            return out;
        }
        String path = socketPath != null ? socketPath : socket;
        if (fd != null && path != null)
            throw new ParameterException(spec.commandLine(), "--fd cannot be used with --socket-path or --socket");
        if (fd == null && path == null)
            throw new ParameterException(spec.commandLine(), "one of --socket-path or --fd is required");
        if (sharedDir == null)
            throw new ParameterException(spec.commandLine(), "missing \"--shared-dir\" or \"-o source\" option");
        if (fd != null) add(out, "--fd", fd.toString());
        else add(out, "--socket-path", path);
        if (socketGroup != null) add(out, "--socket-group", socketGroup);
        add(out, "--shared-dir", sharedDir);
        if (tag != null) add(out, "--tag", tag);
        add(out, "--thread-pool-size", Integer.toString(threadPoolSize));
        add(out, "--cache", cache);
        if (xattr) out.add("--xattr");
        if (posixAcl) out.add("--posix-acl");
        if (xattrmap != null) add(out, "--xattrmap", xattrmap);
        if (securityLabel) out.add("--security-label");
        if (readonly) out.add("--readonly");
        if (noReaddirplus) out.add("--no-readdirplus");
        if (allowMmap) out.add("--allow-mmap");
        if (allowDirectIo) out.add("--allow-direct-io");
        if (preserveNoatime) out.add("--preserve-noatime");
        add(out, "--log-level", logLevel());
        if (rlimitNofile != null) add(out, "--rlimit-nofile", rlimitNofile.toString());
        if (modcaps != null) add(out, "--modcaps", modcaps);
        if (syslog) out.add("--syslog");
        out.add(announceSubmounts ? "--announce-submounts" : "--no-announce-submounts");
        if (writeback) out.add("--writeback");
        if (killprivV2) out.add("--killpriv-v2");
        add(out, "--sandbox", Spelled.spelling(sandbox));
        add(out, "--seccomp", Spelled.spelling(seccomp));
        for (String m : uidMap) add(out, "--uid-map", m);
        for (String m : gidMap) add(out, "--gid-map", m);
        for (String m : translateUid) add(out, "--translate-uid", m);
        for (String m : translateGid) add(out, "--translate-gid", m);
        if (inodeFileHandles != null) add(out, "--inode-file-handles", inodeMode());
        add(out, "--migration-mode", migrationMode);
        add(out, "--migration-on-error", migrationOnError);
        if (migrationConfirmPaths) out.add("--migration-confirm-paths");
        out.add("--exit-on-disconnect");
        return out;
    }

    /** virtiofsd's word for how inodes are held, or null; "fallback" is its old name of "prefer". */
    private String inodeMode() {
        return switch (inodeFileHandles) {
            case "never", "prefer", "mandatory" -> inodeFileHandles;
            case "fallback" -> "prefer";
            default -> null;
        };
    }

    private String logLevel() {
        return compatDebug ? "debug" : logLevel;
    }

    private static void add(List<String> out, String option, String value) {
        out.add(option);
        out.add(value);
    }

    /** Each flag jvhost does not implement, with why, in the order of virtiofsd's --help. */
    List<String> refusals() {
        List<String> r = new ArrayList<>();
        if (socketGroup != null && fd != null) r.add("--socket-group: cannot be used with --fd");
        if (xattrmap != null) {
            try {
                XattrMap.parse(xattrmap);
            } catch (IllegalArgumentException e) {
                r.add(e.getMessage());
            }
        }
        if (inodeFileHandles != null && inodeMode() == null) {
            r.add("--inode-file-handles=" + inodeFileHandles + ": expected one of never, prefer, mandatory");
        }
        if (posixAcl && !translateUid.isEmpty())
            r.add("--translate-uid: cannot be used with --posix-acl (translating ids would break POSIX ACLs)");
        if (posixAcl && !translateGid.isEmpty())
            r.add("--translate-gid: cannot be used with --posix-acl (translating ids would break POSIX ACLs)");
        if (migrationConfirmPaths && migrationMode.equals("file-handles"))
            r.add("--migration-confirm-paths: cannot be used with --migration-mode=file-handles (it is unnecessary)");
        if (migrationVerifyHandles && migrationMode.equals("file-handles"))
            r.add("--migration-verify-handles: cannot be used with --migration-mode=file-handles (it is unnecessary)");
        return r;
    }

    /** virtiofsd's defaults jvhost cannot follow yet, and the deprecated flags: said, never silent. */
    private void warnAboutDefaults() {
        var log = LoggerFactory.getLogger(VirtiofsdCommand.class);
        if (compatForeground) log.warn("Use of deprecated flag '-f': This flag has no effect, please remove it");
        if (compatDebug) log.warn("Use of deprecated flag '-d': Please use the '--log-level debug' option instead");
        if (!compatOptions.isEmpty())
            log.warn("Use of deprecated option format '-o': Please specify options without it");
        if (socketPath == null && socket != null)
            log.warn("use of deprecated parameter '--socket': Please use the '--socket-path' option instead");
    }
}
