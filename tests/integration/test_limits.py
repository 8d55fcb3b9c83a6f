"""Records too large for a topic: with max_request_size at or below the topic's max.message.bytes,
send() refuses the oversized record and its neighbours are delivered (librdkafka builds batches up
to message.max.bytes, so a larger setting lets the broker reject whole batches; see README)."""

import fastprod
from fastprod import errors
from tests.kafka_helpers import consume, create_topic, unique_topic


def test_oversized_record_fails_alone(bootstrap):
    topic = create_topic(bootstrap, unique_topic("limit"), 1, config={"max.message.bytes": "4000"})
    sizes = [100, 5000, 100, 100, 9000, 100] * 50
    delivered, refused = [], 0
    with fastprod.Producer(bootstrap, max_request_size=4000) as producer:
        for i, size in enumerate(sizes):
            try:
                delivered.append(producer.send(topic, b"%06d" % i + b"x" * (size - 6)))
            except errors.MessageSizeTooLargeError:
                refused += 1
        producer.flush(60)
    assert refused == 100
    assert all(f.succeeded() for f in delivered)
    consumed = consume(bootstrap, topic, 1, len(delivered))
    assert sorted(int(c.value[:6]) for c in consumed) == \
        [i for i, size in enumerate(sizes) if size < 4000]
