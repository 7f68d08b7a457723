# Sourced by the launcher and scripts: the JDK lora4j needs (FFM API: JDK 22+).
if [[ -z "${JAVA_HOME:-}" || ! -x "${JAVA_HOME}/bin/java" ]] || \
   ! "${JAVA_HOME}/bin/java" -version 2>&1 | grep -qE 'version "(2[2-9]|[3-9][0-9])'; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
if [[ ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "lora4j needs JDK 22 or newer (Temurin 25 expected at /usr/lib/jvm/temurin-25-jdk-amd64); set JAVA_HOME" >&2
  exit 1
fi
export PATH="$JAVA_HOME/bin:$PATH"
