"""What each node is started with: its ports, server.properties, the log4j2 file and, for
--secure, the SASL/TLS listeners and the certificates they use.

Node n (1-based) listens for clients on P + 2(n-1) and for its controller on P + 2(n-1) + 1.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .runtime import die

JVM_FLAGS = [
    "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent", "-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
]

LOG4J2_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <File name="ServerLog" fileName="${sys:kafka.logs.dir}/server.log">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Root level="INFO"><AppenderRef ref="ServerLog"/></Root>
  </Loggers>
</Configuration>
"""

# --secure: the SCRAM-SHA-512 user made at format time and the TLS keystore password (test-only
# secrets for a broker on 127.0.0.1; recorded in cluster.json for the tests).
SCRAM_USER = "fastprod"
SCRAM_PASSWORD = "fastprod-scram-secret"
TLS_PASSWORD = "fastprod-tls-secret"


def ports(base: int, node: int) -> tuple[int, int]:
    client = base + 2 * (node - 1)
    return client, client + 1


def secure_ports(base: int) -> tuple[int, int]:
    """SASL_PLAINTEXT and SSL client ports of a --secure single node."""
    return base + 2, base + 3


def node_dir(d: Path, node: int) -> Path:
    return d / f"node{node}"


def secure_properties(d: Path, base: int) -> list[str]:
    sasl, ssl = secure_ports(base)
    tls = d / "tls"
    return [
        f"listeners=PLAINTEXT://127.0.0.1:{base},CONTROLLER://127.0.0.1:{base + 1},"
        f"SASL_PLAINTEXT://127.0.0.1:{sasl},SSL://127.0.0.1:{ssl}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{base},SASL_PLAINTEXT://127.0.0.1:{sasl},"
        f"SSL://127.0.0.1:{ssl}",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,"
        "SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config="
        "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        f"listener.name.ssl.ssl.keystore.location={tls / 'broker.p12'}",
        f"listener.name.ssl.ssl.keystore.password={TLS_PASSWORD}",
        f"listener.name.ssl.ssl.key.password={TLS_PASSWORD}",
        "listener.name.ssl.ssl.keystore.type=PKCS12",
    ]


def make_tls(d: Path) -> None:
    """A CA, a broker certificate for 127.0.0.1 signed by it (PKCS12 keystore), and a second CA
    that signed nothing (for 'untrusted certificate' tests)."""
    tls = d / "tls"
    tls.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        r = subprocess.run(["openssl", *args], cwd=tls, capture_output=True, text=True)
        if r.returncode != 0:
            die(f"openssl {args[0]} failed: {r.stderr}")

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
            f"/CN=fastprod test {ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.pem")
    (tls / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "broker.key", "-out", "broker.csr")
    run("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "30", "-extfile", "san.ext", "-out", "broker.pem")
    run("pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key", "-certfile", "ca.pem",
        "-name", "broker", "-passout", f"pass:{TLS_PASSWORD}", "-out", "broker.p12")


def server_properties(d: Path, node: int, nodes: int, base: int, secure: bool = False) -> str:
    client, controller = ports(base, node)
    voters = ",".join(f"{n}@127.0.0.1:{ports(base, n)[1]}" for n in range(1, nodes + 1))
    rf = min(nodes, 3)
    min_isr = 2 if nodes >= 3 else 1
    listeners = secure_properties(d, base) if secure else [
        f"listeners=PLAINTEXT://127.0.0.1:{client},CONTROLLER://127.0.0.1:{controller}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{client},CONTROLLER://127.0.0.1:{controller}",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    ]
    return "\n".join([
        "process.roles=broker,controller",
        f"node.id={node}",
        f"controller.quorum.voters={voters}",
        *listeners,
        "inter.broker.listener.name=PLAINTEXT",
        "controller.listener.names=CONTROLLER",
        f"log.dirs={node_dir(d, node) / 'data'}",
        f"num.partitions={1 if nodes == 1 else 3}",
        f"default.replication.factor={rf}",
        f"min.insync.replicas={min_isr}",
        "auto.create.topics.enable=true",
        f"offsets.topic.replication.factor={rf}",
        f"transaction.state.log.replication.factor={rf}",
        f"transaction.state.log.min.isr={min_isr}",
        f"share.coordinator.state.topic.replication.factor={rf}",
        f"share.coordinator.state.topic.min.isr={min_isr}",
        "group.initial.rebalance.delay.ms=0",
        # Two shared cores: the shipped 3 network / 8 io threads per node only add contention.
        "num.network.threads=2",
        f"num.io.threads={4 if nodes == 1 else 2}",
        "",
    ])
