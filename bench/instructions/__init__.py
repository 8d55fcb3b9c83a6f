"""Instructions per record of every way to produce through librdkafka that issue 14 compares (C
loops, confluent-kafka, fastprod), counted by valgrind's callgrind on librdkafka's in-process mock
cluster: repeatable to about 1 % where wall-clock rates on a shared 2-core machine swing 2x.

    make bench-instructions          # every scenario; JSON in build/instructions.json
    python -m bench.instructions [--scenario NAME ...] [--warm-up W] [--records N]
                                 [--tree DIR] [--json FILE]

Method
- Every client on the mock cluster (test.mock.num.brokers=1) with fastprod's default properties
  (acks=all, idempotence, linger.ms=5, librdkafka's queue limits lifted, a 32 MiB bound), 100-byte
  values; keyed scenarios use keys "key-<i>" formatted in the loop (the C loop's snprintf, Python's
  b'key-%d' % i); JSON scenarios one 10-field dict of small ints.
- Each scenario runs twice, each time in a fresh process under
  `valgrind --tool=callgrind --separate-threads=yes`: with W records and with W + N. Both runs pay
  start-up, the warm-up (the first W records: metadata, producer id, allocator and caches) and
  shutdown alike, so (run at W + N - run at W) / N is the cost of one record in steady state.
- The split by thread: callgrind writes one profile per thread; each is put in a group by the
  function its thread started in (measure.THREAD_GROUPS): the caller (the main thread: the loop,
  the API calls, get(), and for the C loop and confluent the delivery reports served by poll()),
  fastprod's drain thread (hands records to librdkafka, polls its delivery reports), dispatcher
  (resolves futures, runs callbacks) and metadata thread, librdkafka's main thread and its broker
  threads (build and send the requests, read the responses), and the mock broker.
- The mock broker's cost is subtracted whole: it runs in a thread of its own
  (rd_kafka_mock_cluster_thread_main), server work no real client pays. This is slightly more than
  the self cost of the rd_kafka_mock_* functions that docs/benchmarks.md's first callgrind notes
  (and /work/shared/reference/cost-per-record.md) subtract, since the thread also runs its socket
  and buffer code; the column shows how much it is (~120 per record).
- Client side = every thread of the process but the mock broker's. Kernel time (futex waits,
  syscalls) is not counted: valgrind counts user-space instructions only.
- "x C loop" is client side over the C producev loop's (keyed scenarios: the keyed C loop's).
- "in send" (fastprod only): the inclusive cost of the send()/send_and_forget()/send_batch()
  wrappers on the caller's thread, from callgrind_annotate: serialize, partition, copy into the
  ring. Exact; the thread columns move by a few per cent between runs (GIL hand-offs, how often
  threads wake).

The C loops are fastprod/bench/c_loop.c (producev per record; --batch=1000: produce_batch with
RD_KAFKA_PARTITION_UA) built as `fastprod bench` builds it, on the librdkafka fastprod loads.
--tree runs the fastprod built in place in another checkout (e.g. a git worktree of an older
commit) for before/after figures; the C loops and confluent-kafka are this environment's.
"""
