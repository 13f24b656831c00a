package io.jvhost.cli;

import picocli.CommandLine.ParameterException;

/**
 * virtiofsd's legacy {@code -o} form ({@code -o source=/dir,cache=always,xattr}): each option sets
 * the flag it stands for, so it then means what that flag means, refusals included. The words
 * and the errors are virtiofsd's ({@code Invalid compat argument '-o ...'}).
 */
final class LegacyOptions {
    private LegacyOptions() {}

    static void apply(VirtiofsdCommand c) {
        for (String line : c.compatOptions) {
            for (String option : line.split(",")) {
                int eq = option.indexOf('=');
                if (eq >= 0) tuple(c, option.substring(0, eq), option.substring(eq + 1), option);
                else single(c, option);
            }
        }
    }

    private static void tuple(VirtiofsdCommand c, String key, String value, String option) {
        switch (key) {
            case "source" -> c.sharedDir = value;
            case "xattrmap" -> c.xattrmap = value;
            case "modcaps" -> c.modcaps = value;
            case "cache" ->
                c.cache = switch (value) {
                    case "auto", "always", "metadata" -> value;
                    case "none" -> "never";
                    default -> throw badValue(c, key, value);
                };
            case "loglevel" ->
                c.logLevel = switch (value) {
                    case "debug", "info", "warn" -> value;
                    case "err" -> "error";
                    default -> throw badValue(c, key, value);
                };
            case "sandbox" ->
                c.sandbox = switch (value) {
                    case "namespace" -> Sandbox.Mode.NAMESPACE;
                    case "chroot" -> Sandbox.Mode.CHROOT;
                    default -> throw badValue(c, key, value);
                };
            default -> throw badArgument(c, option);
        }
    }

    private static void single(VirtiofsdCommand c, String option) {
        switch (option) {
            case "xattr" -> c.xattr = true;
            case "no_xattr" -> c.xattr = false;
            case "readdirplus" -> c.noReaddirplus = false;
            case "no_readdirplus" -> c.noReaddirplus = true;
            case "writeback" -> c.writeback = true;
            case "no_writeback" -> c.writeback = false;
            case "allow_direct_io" -> c.allowDirectIo = true;
            case "no_allow_direct_io" -> c.allowDirectIo = false;
            case "announce_submounts" -> c.announceSubmounts = true;
            case "killpriv_v2" -> c.killprivV2 = true;
            case "no_killpriv_v2" -> c.killprivV2 = false;
            case "posix_acl" -> c.posixAcl = true;
            case "no_posix_acl" -> c.posixAcl = false;
            case "security_label" -> c.securityLabel = true;
            case "no_security_label" -> c.securityLabel = false;
            case "no_posix_lock", "no_flock" -> {} // virtiofsd ignores them too: neither lock kind is offered
            default -> throw badArgument(c, option);
        }
    }

    private static ParameterException badValue(VirtiofsdCommand c, String key, String value) {
        return new ParameterException(
                c.spec.commandLine(), "Invalid compat value '" + value + "' for '-o " + key + "'");
    }

    private static ParameterException badArgument(VirtiofsdCommand c, String option) {
        return new ParameterException(c.spec.commandLine(), "Invalid compat argument '-o " + option + "'");
    }
}
