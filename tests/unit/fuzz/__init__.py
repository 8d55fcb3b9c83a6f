"""Fuzzing of send(), send_batch() and ProducerRecord argument handling (issue 12).

Calls get arguments mixed from good and bad values of many types (buffers of every shape,
subclasses whose dunders lie, out-of-range ints, bad topic and header names, serializers that
raise, return garbage or send from inside) on producers with every kind of serializer. An oracle
written from the documentation (tests/support/fuzz/contract.py) says per argument whether it is
valid and which exceptions a bad one may raise. Every call must then either raise one of those and
queue nothing (send_batch: exactly ``exc.batch_result.sent`` records, the failing index in the
note), or return having queued exactly the records asked for; the producer must still send and
flush afterwards, and at the end every future and batch is resolved and delivered with the
partition and the key/value sizes the oracle expects.

- test_one_call.py: one call per example; the reproducers of the bugs found, and the bad-input
  table, are its @examples.
- test_call_sequences.py: hypothesis' stateful testing, sends, batches and flushes on one
  producer with the counts checked after every step; ``test_fuzz_long`` (slow: ``make
  test-all``) runs them for FASTPROD_FUZZ_SECONDS (default 300), in rounds with fresh seeds.
- test_hostile.py: serializers that close the producer or shrink the lists send_batch is
  reading, and a headers list whose __len__ lies; each in a forked grandchild of a fresh
  interpreter, since such bugs crash the process.

The oracle, the producers, the checker and the strategies are in tests/support/fuzz/.

CI: ``pytest tests/unit/fuzz -m "not slow"``, about 30 s on two cores (FASTPROD_FUZZ_CALLS,
FASTPROD_FUZZ_SEQUENCES scale it). Hypothesis alone, no atheris: the extension is not built with
-fsanitize=fuzzer, so atheris would see coverage of the Python layer only, which is a few lines;
the oracle is what tells a bug from a refusal.
"""
