"""scripts/kafka-local: a 3-node KRaft cluster that tests can kill nodes of."""

import subprocess

from confluent_kafka.admin import AdminClient

import fastprod
from tests.support.topics import consume, create_topic, unique_topic


def test_three_node_cluster_survives_a_killed_node(three_nodes):
    cmd, state, bootstrap = three_nodes
    assert len(bootstrap.split(",")) == 3
    brokers = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30).brokers
    assert len(brokers) == 3
    topic = create_topic(bootstrap, unique_topic("rf3"), 3, replication=3,
                         config={"min.insync.replicas": "2"})

    killed = subprocess.run([*cmd, "signal", "2", "KILL", "--dir", str(state)])
    assert killed.returncode == 0
    status = subprocess.run([*cmd, "status", "--dir", str(state)], capture_output=True, text=True)
    assert status.returncode == 1 and "node 2" in status.stdout and "down" in status.stdout

    # acks=all with min.insync.replicas=2 still succeeds with one node of three down
    with fastprod.Producer(bootstrap) as producer:
        futures = [producer.send(topic, b"%d" % i, key=b"%d" % i) for i in range(300)]
        producer.flush(120)
    assert all(f.succeeded() for f in futures)

    restarted = subprocess.run([*cmd, "restart-node", "2", "--dir", str(state)],
                               capture_output=True, text=True)
    assert restarted.returncode == 0, restarted.stderr
    status = subprocess.run([*cmd, "status", "--dir", str(state)], capture_output=True, text=True)
    assert status.returncode == 0, status.stdout
    assert sorted(int(c.value) for c in consume(bootstrap, topic, 3, 300)) == list(range(300))
