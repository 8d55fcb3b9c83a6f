"""The fault tests' verifier catches each anomaly it claims to count, and passes a clean run."""

from tests.support.verifier import Logged, Sent, verify


def clean_run(n=20):
    sent = [Sent(i, b"k%d" % (i % 3), "acked") for i in range(n)]
    logged = [Logged(i, b"k%d" % (i % 3), i % 3, i // 3) for i in range(n)]
    return sent, logged


def test_clean_run_is_clean():
    v = verify(*clean_run())
    assert v.clean() and (v.sent, v.acked, v.in_log) == (20, 20, 20)


def test_lost_record():
    sent, logged = clean_run()
    v = verify(sent, [r for r in logged if r.id != 7])
    assert (v.lost, v.examples["lost"]) == (1, [7]) and not v.clean()


def test_duplicate():
    sent, logged = clean_run()
    v = verify(sent, logged + [Logged(4, b"k1", 1, 100)])
    assert (v.duplicates, v.examples["duplicates"]) == (1, [4])


def test_reorder_within_a_key_and_partition():
    sent, logged = clean_run()
    swapped = [Logged(r.id, r.key, r.partition, {3: 4, 4: 3}.get(r.offset, r.offset))
               if r.partition == 0 else r for r in logged]  # ids 9 and 12 change places
    v = verify(sent, swapped)
    assert v.reorders == 1 and v.examples["reorders"] == [9]


def test_phantom_and_orphan():
    sent, logged = clean_run()
    sent[2] = Sent(2, sent[2].key, "failed")
    sent[5] = Sent(5, sent[5].key, "pending")
    v = verify(sent, [r for r in logged if r.id != 5])
    assert (v.phantoms, v.orphans, v.failed, v.lost) == (1, 1, 1, 0)
    assert v.examples == {"phantoms": [2], "orphans": [5]}
