#!/usr/bin/env bash
# Runs BundleCheck.java (a single-file Java program) against this checkout's SDK classes.
#   exporter/tests/java/bundle_check.sh generate|selftest|load-error --bundle DIR ...
# Builds instaflow-api + instaflow-native (mvn compile, no install) once, and caches the runtime classpath in
# instaflow-native/target/. On a host prepared by scripts/gpu_java_payload.sh (no Maven, no javac), its env.sh sets
# JAVA, INSTAFLOW_CLASSPATH and INSTAFLOW_CHECK_CLASSES (BundleCheck compiled in advance) instead.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
CP_FILE="$ROOT/instaflow-native/target/exporter-check.classpath"
if [ -z "${INSTAFLOW_CLASSPATH:-}" ]; then
  if [ ! -f "$CP_FILE" ] || [ ! -d "$ROOT/instaflow-native/target/classes/dev" ]; then
    (cd "$ROOT" && mvn -B -q -pl instaflow-native -am compile >&2 \
      && mvn -B -q -pl instaflow-native dependency:build-classpath -Dmdep.includeScope=runtime \
           -Dmdep.outputFile="$CP_FILE.deps" >&2)
    # This checkout's classes, not whatever instaflow-api SNAPSHOT jar a shared ~/.m2 holds.
    tr ':' '\n' < "$CP_FILE.deps" | grep -v '/dev/instaflow/' | paste -sd: - \
      | sed "s#^#$ROOT/instaflow-api/target/classes:$ROOT/instaflow-native/target/classes:#" > "$CP_FILE"
  fi
  INSTAFLOW_CLASSPATH=$(cat "$CP_FILE")
fi
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# shellcheck disable=SC2086
if [ -n "${INSTAFLOW_CHECK_CLASSES:-}" ]; then
  exec "${JAVA:-java}" ${JAVA_OPTS:-} -cp "$INSTAFLOW_CHECK_CLASSES:$INSTAFLOW_CLASSPATH" BundleCheck "$@"
fi
exec "${JAVA:-java}" ${JAVA_OPTS:-} -cp "$INSTAFLOW_CLASSPATH" "$ROOT/exporter/tests/java/BundleCheck.java" "$@"
