package io.jvhost.state;

/**
 * What a reader that has no loader for a section or subsection must do with it. The writer
 * decides, because only the writer knows whether ignoring the data would lose something the
 * destination needs to behave correctly.
 */
public enum IfUnknown {
    /** The data only refines behaviour; an older reader may drop it (logged) and still be correct. */
    SKIP,
    /** Loading without understanding this data would be wrong; an older reader must fail the load. */
    FAIL
}
