"""What the broker needs from the machine: Java 17+, the Kafka jars (fetched once with Maven into
the cache) and, for --secure, openssl. Each missing piece is reported as what is missing and how
to get it, not as a traceback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

KAFKA_VERSION = os.environ.get("FASTPROD_KAFKA_VERSION", "4.1.1")
CACHE = Path(os.environ.get("FASTPROD_CACHE", Path.home() / ".cache" / "fastprod"))
HEAP = os.environ.get("FASTPROD_KAFKA_HEAP", "1G")
# Shipped beside this module (package data), so an installed wheel fetches the same jars.
POM = Path(__file__).resolve().parent / "pom.xml"
# Kafka 4.x brokers and tools are built for Java 17.
JAVA_MINIMUM = 17

JAVA_HELP = ("install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless, "
             "dnf install java-17-openjdk-headless, brew install openjdk@17) and put its java on "
             "PATH or set JAVA_HOME")
MAVEN_HELP = ("install Maven 3 (e.g. apt-get install maven, dnf install maven, brew install maven); "
              "it is needed once, to fetch the Kafka jars into the cache")


def die(msg: str) -> NoReturn:
    print(f"kafka-local: {msg}", file=sys.stderr)
    sys.exit(1)


def libs_dir() -> Path:
    return CACHE / f"kafka-{KAFKA_VERSION}" / "libs"


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    return str(Path(home) / "bin" / "java") if home else "java"


def java_major(version_output: str) -> int | None:
    """The major version in `java -version`'s output ('"17.0.15"' is 17, '"1.8.0_392"' is 8)."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if found is None:
        return None
    major = int(found[1])
    return int(found[2] or 0) if major == 1 else major


def java_problem() -> str | None:
    """Why this machine cannot run the broker's JVM, with how to fix it; None when it can."""
    where = "JAVA_HOME" if os.environ.get("JAVA_HOME") else "PATH"
    command = java()
    if shutil.which(command) is None:
        return f"no java found (looked in {where}): {JAVA_HELP}"
    try:
        done = subprocess.run([command, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{command} -version failed ({exc}): {JAVA_HELP}"
    major = java_major(done.stderr + done.stdout)
    if major is None:
        return f"cannot read the version of {command} (from {where}): {JAVA_HELP}"
    if major < JAVA_MINIMUM:
        return f"{command} (from {where}) is Java {major}; Kafka {KAFKA_VERSION} needs " \
               f"Java {JAVA_MINIMUM} or newer: {JAVA_HELP}"
    return None


def require_java() -> None:
    problem = java_problem()
    if problem:
        die(problem)


def require_openssl() -> None:
    if shutil.which("openssl") is None:
        die("--secure makes its certificates with openssl, which is not on PATH: install it "
            "(e.g. apt-get install openssl)")


def fetch() -> Path:
    """Resolve the broker and tool jars once into the cache; later calls reuse them."""
    libs = libs_dir()
    marker = libs / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None:
        die(f"no mvn on PATH, and the Kafka {KAFKA_VERSION} jars are not in {libs} yet: {MAVEN_HELP}")
    libs.mkdir(parents=True, exist_ok=True)
    cmd = ["mvn", "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
           f"-Dkafka.version={KAFKA_VERSION}", "-DincludeScope=runtime", f"-DoutputDirectory={libs}"]
    print(f"kafka-local: fetching Kafka {KAFKA_VERSION} jars with Maven into {libs}", file=sys.stderr)
    rc = subprocess.call(cmd, stdout=sys.stderr)
    if rc != 0 or not any(libs.glob("kafka_2.13-*.jar")):
        die(f"maven could not resolve Kafka {KAFKA_VERSION} (exit {rc})")
    marker.write_text(KAFKA_VERSION + "\n")
    return libs
