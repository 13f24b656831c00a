package io.jvhost.nativeio;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * Downcall handles that are linked when first called or when {@link #linkAll} runs, whichever
 * comes first. Linking one (FFM spins a class and a native stub for each call shape) costs
 * milliseconds, and jvhost has some eighty of them; a daemon linking all before it listens spent
 * most of its start-up there. A daemon links them all in the background once it listens, so
 * neither its first requests nor a migration's restore pay for them.
 *
 * <p>The handle a class keeps is a {@link MutableCallSite}'s invoker of the downcall's exact type;
 * the site's target links, then becomes the downcall itself, which the JIT inlines as a constant,
 * as it does a plain static final downcall handle.
 */
public final class Downcalls {
    private Downcalls() {}

    private static final Queue<Lazy> PENDING = new ConcurrentLinkedQueue<>();
    private static final MethodHandle LINK;

    static {
        try {
            LINK = MethodHandles.lookup().findVirtual(Lazy.class, "link", MethodType.methodType(MethodHandle.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Links every handle made so far that no call has linked yet; returns how many it linked. */
    public static int linkAll() {
        int n = 0;
        for (Lazy l; (l = PENDING.poll()) != null; ) if (l.linkIfNeeded()) n++;
        return n;
    }

    /**
     * A handle of the type {@code link} gives for C signature {@code fd}: with {@code
     * capturesState} (a captureCallState option) it takes the capture segment first, as the
     * linked downcall does.
     */
    static MethodHandle lazy(FunctionDescriptor fd, boolean capturesState, Supplier<MethodHandle> link) {
        MethodType type = fd.toMethodType();
        if (capturesState) type = type.insertParameterTypes(0, MemorySegment.class);
        Lazy l = new Lazy(fd, link, new MutableCallSite(type));
        l.site.setTarget(MethodHandles.foldArguments(MethodHandles.exactInvoker(type), LINK.bindTo(l)));
        PENDING.add(l);
        return l.site.dynamicInvoker();
    }

    private static final class Lazy {
        private final FunctionDescriptor fd;
        private final Supplier<MethodHandle> linker;
        final MutableCallSite site;
        private volatile MethodHandle linked;

        Lazy(FunctionDescriptor fd, Supplier<MethodHandle> linker, MutableCallSite site) {
            this.fd = fd;
            this.linker = linker;
            this.site = site;
        }

        /** The downcall, linked now if no one did before (two threads at once link it twice, harmlessly). */
        MethodHandle link() {
            MethodHandle h = linked;
            if (h != null) return h;
            h = linker.get();
            if (!h.type().equals(site.type()))
                throw new IllegalStateException("downcall " + fd + " links as " + h.type() + ", not " + site.type());
            site.setTarget(h);
            MutableCallSite.syncAll(new MutableCallSite[] {site});
            linked = h;
            return h;
        }

        boolean linkIfNeeded() {
            if (linked != null) return false;
            link();
            return true;
        }
    }
}
