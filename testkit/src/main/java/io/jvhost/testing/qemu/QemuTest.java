package io.jvhost.testing.qemu;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class (or method) that boots QEMU guests: tags it {@code "qemu"} and gives each test
 * method a {@link TestRun} parameter, closed after the test (all processes stopped, logs kept under
 * {@code target/qemu-tests/<Class>.<method>/}).
 *
 * <pre>{@code
 * @QemuTest
 * class MyDeviceTest {
 *     @Test
 *     void works(TestRun run) { ... }
 * }
 * }</pre>
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("qemu")
@ExtendWith(QemuTestExtension.class)
public @interface QemuTest {}
