"""Many threads sending through one producer at once: every record is delivered, and each
partition's offsets follow its thread's send() order, also when they keep waiting for space."""

import threading

import pytest


@pytest.mark.parametrize("buffer_memory", [None, 8192])
def test_many_threads_send_at_once(make_producer, buffer_memory):
    # 8 KiB: the threads keep waiting for ring and buffer space and must still keep order.
    p = make_producer(buffer_memory=buffer_memory)
    per_thread, threads = 2000, 4
    futures = [[] for _ in range(threads)]

    def work(i):
        for n in range(per_thread):
            futures[i].append(p.send("t1", b"%d-%d" % (i, n), partition=i))

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    p.flush(60)
    for i in range(threads):
        offsets = [f.get().offset for f in futures[i]]
        assert offsets == list(range(per_thread))  # per-partition order is send() order
