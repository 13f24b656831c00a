package io.jvhost.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One way to get a logger: {@code private static final Logger LOG = LoggerFactory.getLogger(X.class)}
 * with X the declaring class, so a log line's name is the class that wrote it and one logger
 * configuration key per class exists. (A method may still get its logger lazily by class, as
 * {@code cli.PrivilegeDrop} does before it re-executes itself.)
 */
@AnalyzeClasses(packages = "io.jvhost", importOptions = ProductionCode.class)
class LoggerNamingTest {
    @ArchTest
    static final ArchRule loggerFieldsArePrivateStaticFinalLog = fields().that()
            .haveRawType(Logger.class)
            .should()
            .bePrivate()
            .andShould()
            .beStatic()
            .andShould()
            .beFinal()
            .andShould()
            .haveName("LOG")
            .allowEmptyShould(false);

    @ArchTest
    static final ArchRule loggersAreNamedByClassNotByString =
            noClasses().should().callMethod(LoggerFactory.class, "getLogger", String.class);
}
