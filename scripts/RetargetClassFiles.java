import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Build step (app/pom.xml, package phase): rewrites a jar's class files older than Java 6
 * (version 50) as version 52 class files with stack maps, in place; the bytecode is otherwise
 * unchanged. Why: the JDK's AOT cache skips classes that old (they need the old verifier), so
 * picocli, built for Java 5, was loaded from its jar and verified by type inference on every
 * start, most of the time the daemon took to parse its command line. Rewriting them with the
 * JDK's own ClassFile API lets the cache hold them. Classes already at 50 or later (picocli's
 * module-info) are copied as they are, so running it twice changes nothing.
 *
 * <p>Run with JDK 25's source launcher: {@code java scripts/RetargetClassFiles.java JAR...}.
 */
public final class RetargetClassFiles {
    private static final int STACK_MAPS_REQUIRED = 50;
    private static final int TARGET = 52;

    public static void main(String[] jars) throws IOException {
        for (String jar : jars) retarget(Path.of(jar));
    }

    private static void retarget(Path jar) throws IOException {
        Path tmp = jar.resolveSibling(jar.getFileName() + ".tmp");
        int rewritten = 0;
        // Stack maps need the class hierarchy: the jar's own classes, then the JDK's.
        try (URLClassLoader classes = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
                InputStream raw = Files.newInputStream(jar);
                ZipInputStream in = new ZipInputStream(raw);
                OutputStream sink = Files.newOutputStream(tmp);
                ZipOutputStream out = new ZipOutputStream(sink)) {
            ClassFile cf = ClassFile.of(
                    ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                    ClassFile.ClassHierarchyResolverOption.of(ClassHierarchyResolver.ofResourceParsing(classes)
                            .orElse(ClassHierarchyResolver.defaultResolver())));
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                byte[] bytes = in.readAllBytes();
                if (e.getName().endsWith(".class")) {
                    ClassModel model = cf.parse(bytes);
                    if (model.majorVersion() < STACK_MAPS_REQUIRED) {
                        bytes = retarget(cf, model);
                        rewritten++;
                    }
                }
                ZipEntry copy = new ZipEntry(e.getName());
                copy.setTime(e.getTime());
                out.putNextEntry(copy);
                out.write(bytes);
                out.closeEntry();
            }
        }
        if (rewritten == 0) {
            Files.delete(tmp); // nothing old: the jar keeps its bytes and its time
        } else {
            Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING);
        }
        System.out.println("[retarget] " + jar.getFileName() + ": " + rewritten + " class files rewritten as version "
                + TARGET + " with stack maps");
    }

    private static byte[] retarget(ClassFile cf, ClassModel model) {
        ClassTransform version = (builder, element) -> {
            if (element instanceof ClassFileVersion) builder.with(ClassFileVersion.of(TARGET, 0));
            else builder.with(element);
        };
        // Rebuilding every method body is what makes the ClassFile API compute its stack map.
        return cf.transformClass(model, version.andThen(ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)));
    }
}
