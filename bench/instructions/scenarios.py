"""What each scenario runs: the same records for every client (100-byte values; keys "key-<i>",
5 to 10 bytes, formatted in the loop as the C loop does; JSON as one 10-field dict), on
librdkafka's in-process mock cluster with fastprod's default producer properties.

A Python scenario is a program whose body sends `n` records through `p` and returns once every
one of them is acknowledged; a C scenario is fastprod/bench/c_loop.c with its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastprod.bench.environment import confluent_config

BATCH = 1000  # records per produce_batch / send_batch call
MOCK = {"test.mock.num.brokers": "1", "log_level": "0"}


@dataclass(frozen=True)
class Scenario:
    label: str
    client: str          # "c", "confluent" or "fastprod"
    keyed: bool = False
    body: str = ""       # Python scenarios: sends n records through p
    batch: int = 0       # C scenarios: c_loop's --batch=SIZE (0: producev per record)
    serializer: str | None = None
    size: int = 100      # C scenarios: value bytes
    compared_with: str | None = None  # the C loop of the ratio, when not the default below

    @property
    def baseline(self) -> str:
        """The C loop this scenario's ratio is taken to: keyed scenarios to the keyed one."""
        if self.compared_with:
            return self.compared_with
        return "c-producev-keyed" if self.keyed else "c-producev"


def mock_properties() -> dict[str, str]:
    """The librdkafka properties the confluent clients and the C loop get: fastprod's defaults and
    32 MiB bound (as `fastprod bench` gives them), the mock cluster instead of a bootstrap."""
    properties = confluent_config("")
    del properties["bootstrap.servers"]
    return {**properties, **MOCK}


CONFLUENT_CHILD = """
import json
import sys
import confluent_kafka
n = int(sys.argv[1])
p = confluent_kafka.Producer({config!r})
produce, poll = p.produce, p.poll
v = b'x' * 100
def cb(err, msg):
    pass
def produce_again(*args, **kw):
    while True:  # the queue was full: serve delivery reports until it takes the record
        poll(0.01)
        try:
            return produce(*args, **kw)
        except BufferError:
            pass
def produce_batch_again(msgs):
    refused = [m for m in msgs if m.pop('_error', None) is not None]
    while refused:  # the queue was full for these
        poll(0.01)
        p.produce_batch('t', refused)
        refused = [m for m in refused if m.pop('_error', None) is not None]
p.produce('t', b'w')
p.flush(60)
{body}
if p.flush(600):
    sys.exit("records left unacknowledged")
"""

# Each line of a produce() loop: the call, a retry only when the queue is full, a poll(0) per
# 1,000 records to serve delivery reports as they come (the minimal loop confluent's users write).
CONFLUENT_LOOP = """for i in range(n):
    try:
        produce({args})
    except BufferError:
        produce_again({args})
    if i % 1000 == 0:
        poll(0)"""

FASTPROD_CHILD = """
import json
import sys
import fastprod
n = int(sys.argv[1])
p = fastprod.Producer(value_serializer={serializer!r}, config={config!r})
send = p.send
v = b'x' * 100
def cb(metadata):
    pass
p.send('t', None).get(60)  # metadata and the producer id; a null value needs no serializer
{body}
p.flush()
stats = p.stats()
p.close()
print(json.dumps({{'fastprod': fastprod.__file__, 'delivered': stats['delivered'],
                  'batched': stats.get('batched_records', 0)}}))
"""

JSON_DICT = "d = {'f%d' % i: i for i in range(10)}\n"

SCENARIOS: dict[str, Scenario] = {
    "c-producev": Scenario("C loop: rd_kafka_producev per record, keyless", "c"),
    "c-producev-keyed": Scenario("C loop: rd_kafka_producev per record, keyed", "c", keyed=True),
    "c-producev-keyed-180": Scenario("C loop: rd_kafka_producev per record, keyed, 180 B values",
                                     "c", keyed=True, size=180),
    "c-produce-batch": Scenario(f"C loop: rd_kafka_produce_batch, runs of {BATCH:,}", "c",
                                batch=BATCH),
    "confluent": Scenario("confluent produce(), keyless", "confluent",
                          body=CONFLUENT_LOOP.format(args="'t', v")),
    "confluent-keyed": Scenario("confluent produce(), keyed", "confluent", keyed=True,
                                body=CONFLUENT_LOOP.format(args="'t', v, b'key-%d' % i")),
    "confluent-callback": Scenario("confluent produce(on_delivery=cb)", "confluent",
                                   body=CONFLUENT_LOOP.format(args="'t', v, on_delivery=cb")),
    "confluent-batch": Scenario(
        f"confluent produce_batch of {BATCH:,}", "confluent",
        body=f"msgs = [{{'value': v}} for _ in range({BATCH})]\n"
             f"for _ in range(n // {BATCH}):\n"
             "    if p.produce_batch('t', msgs) < len(msgs):\n"
             "        produce_batch_again(msgs)\n"
             "    poll(0)"),
    "confluent-json": Scenario("confluent produce(json.dumps(d).encode()), 10-field dicts",
                               "confluent",
                               body=JSON_DICT + "dumps = json.dumps\n"
                               + CONFLUENT_LOOP.format(args="'t', dumps(d).encode()")),
    "keyless": Scenario("fastprod send(), keyless, futures dropped", "fastprod",
                        body="for _ in range(n):\n    send('t', v)"),
    "forget": Scenario("fastprod send_and_forget(), keyless, no future", "fastprod",
                       body="forget = p.send_and_forget\nfor _ in range(n):\n    forget('t', v)"),
    "keyed-futures": Scenario("fastprod send(), keyed, futures kept and get()", "fastprod",
                              keyed=True,
                              body="fs = [send('t', v, key=b'key-%d' % i) for i in range(n)]\n"
                                   "for f in fs:\n    f.get()"),
    "callback": Scenario("fastprod send().add_callback(cb)", "fastprod",
                         body="for _ in range(n):\n    send('t', v).add_callback(cb)"),
    "batch": Scenario(f"fastprod send_batch of {BATCH:,}", "fastprod",
                      body=f"vs = [v] * {BATCH}\nfor _ in range(n // {BATCH}):\n"
                           "    p.send_batch('t', vs)"),
    "json": Scenario('fastprod send(), value_serializer="json", 10-field dicts', "fastprod",
                     serializer="json", body=JSON_DICT + "for _ in range(n):\n    send('t', d)"),
    "table-json": Scenario(
        f"fastprod send_table of a {BATCH:,}-row pyarrow Table (the 10 fields of fastprod bench's "
        "rows, ~181 B of JSON), keyed by a column", "fastprod", keyed=True,
        compared_with="c-producev-keyed-180",
        body="import pyarrow\nfrom fastprod.bench.workloads import make_rows\n"
             f"table = pyarrow.Table.from_pylist(make_rows({BATCH}))\n"
             f"for _ in range(n // {BATCH}):\n    p.send_table('t', table, key='user')"),
}


def python_program(s: Scenario) -> str:
    """The program a Python scenario runs (its argument: the number of records)."""
    if s.client == "confluent":
        return CONFLUENT_CHILD.format(config=mock_properties(), body=s.body)
    return FASTPROD_CHILD.format(serializer=s.serializer, config=MOCK, body=s.body)
