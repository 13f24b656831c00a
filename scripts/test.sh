#!/usr/bin/env bash
# Runs every jvhost test: first installs what the tests need (QEMU 10, virtiofsd 1.13, a Debian
# guest kernel, busybox; see install-test-deps.sh), then `mvn verify` on JDK 25.
# Unit tests run in the test phase (Surefire); tests tagged "qemu" boot real guests or start
# virtiofsd, run in integration-test (Failsafe) and are never skipped. Extra Maven args pass
# through, e.g. scripts/test.sh -Dtest='io.jvhost.protocol.**' -Dit.test=FsQemuTest.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/common.sh"
cd "$REPO_ROOT"
bash "$HERE/install-test-deps.sh"
JAVA_HOME=$(find_jdk25) || {
    echo "jvhost needs a JDK 25 (FFM API): install Temurin 25 (package temurin-25-jdk) under /usr/lib/jvm, or set JAVA_HOME to a JDK 25" >&2
    exit 1
}
export JAVA_HOME
# Maven 3.8 uses sun.misc.Unsafe; JDK 25 warns about it on every run.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
exec mvn -B --no-transfer-progress verify "$@"
