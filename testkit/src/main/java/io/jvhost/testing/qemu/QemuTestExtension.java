package io.jvhost.testing.qemu;

import java.lang.reflect.Method;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Supplies a {@link TestRun} per test method ({@code <Class>.<method>}, plus {@code -<n>} for
 * repeated/parameterized invocations) and closes it after the test; on failure, prints where the
 * logs are.
 */
public final class QemuTestExtension implements ParameterResolver, AfterEachCallback, TestWatcher {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(QemuTestExtension.class);
    private static final Pattern INVOCATION = Pattern.compile("test-template-invocation:#(\\d+)]$");

    /** Created by JUnit from {@code @ExtendWith} (see {@link QemuTest}). */
    public QemuTestExtension() {}

    @Override
    public boolean supportsParameter(ParameterContext pc, ExtensionContext ec) {
        return pc.getParameter().getType() == TestRun.class;
    }

    @Override
    public Object resolveParameter(ParameterContext pc, ExtensionContext ec) {
        return ec.getStore(NS).getOrComputeIfAbsent("run", k -> TestRun.create(testName(ec)), TestRun.class);
    }

    static String testName(ExtensionContext ec) {
        String cls = ec.getRequiredTestClass().getSimpleName();
        String method = ec.getTestMethod().map(Method::getName).orElse("class");
        Matcher m = INVOCATION.matcher(ec.getUniqueId());
        return cls + "." + method + (m.find() ? "-" + m.group(1) : "");
    }

    @Override
    public void afterEach(ExtensionContext ec) {
        TestRun run = ec.getStore(NS).remove("run", TestRun.class);
        if (run != null) {
            ec.getStore(NS).put("logs", run.logDir().toString());
            run.close();
        }
    }

    @Override
    public void testFailed(ExtensionContext ec, Throwable cause) {
        String logs = ec.getStore(NS).get("logs", String.class);
        if (logs != null) System.err.println("[qemu-test] " + testName(ec) + " FAILED; logs kept in " + logs);
    }

    @Override
    public void testSuccessful(ExtensionContext ec) {}

    @Override
    public void testAborted(ExtensionContext ec, Throwable cause) {}

    @Override
    public void testDisabled(ExtensionContext ec, Optional<String> reason) {}
}
