package io.jvhost.cli;

import io.jvhost.nativeio.Libc;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * SIGTERM, SIGINT and SIGHUP end a daemon as virtiofsd's handler does (it calls _exit): the
 * socket file (if it made one) is removed and the process ends with _exit(128 + the signal's
 * number), which closes the front-end's connection. Not the server's close() first: that would
 * let the serving thread see the disconnect and exit on its own (status 0) in between. The JVM's own path would first look up a
 * logger for Runtime.exit's log (a service-loader scan, java.util.logging's start), start the
 * hook threads and, even on Runtime.halt, wait for its compiler threads to block: 0.2 to 0.35 s
 * on a busy host, where a daemon being stopped should take milliseconds. Nothing is lost: every
 * guest write has already gone to its host file, and the log lines are written as they come.
 *
 * <p>sun.misc.Signal (module jdk.unsupported) is reached reflectively: javac's "internal
 * proprietary API" warning cannot be suppressed, and the build allows no warning.
 */
final class SignalExit {
    private SignalExit() {}

    /**
     * Set by the launcher for its AOT training run (see ./jvhost): that run is ended with SIGTERM
     * and must leave through the JVM's own exit, which writes the cache; _exit would lose it.
     */
    static final String AOT_TRAINING = "JVHOST_AOT_TRAINING";

    static void install(Path socketFile) {
        if (System.getenv(AOT_TRAINING) != null) return;
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            var handle = signalClass.getMethod("handle", signalClass, handlerClass);
            for (String name : new String[] {"TERM", "INT", "HUP"}) {
                handle.invoke(
                        null,
                        signalClass.getConstructor(String.class).newInstance(name),
                        handler(handlerClass, name, socketFile));
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot handle SIGTERM: " + e, e);
        }
    }

    /** A handler for one signal, its exit status known beforehand: no reflective call while exiting. */
    private static Object handler(Class<?> handlerClass, String signal, Path socketFile) {
        int status = 128
                + switch (signal) {
                    case "HUP" -> 1;
                    case "INT" -> 2;
                    case "TERM" -> 15;
                    default -> throw new IllegalArgumentException(signal);
                };
        return Proxy.newProxyInstance(
                SignalExit.class.getClassLoader(), new Class<?>[] {handlerClass}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "handle" -> {
                            if (socketFile != null) removeQuietly(socketFile);
                            Libc.exitNow(status);
                            return null;
                        }
                        case "hashCode" -> {
                            return System.identityHashCode(proxy);
                        }
                        case "equals" -> {
                            return proxy == args[0];
                        }
                        default -> {
                            return "SignalExit";
                        }
                    }
                });
    }

    private static void removeQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // exiting anyway; a stale socket file is replaced by the next daemon's listen
        }
    }
}
